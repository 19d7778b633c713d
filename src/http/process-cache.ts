import type { Process } from '../domain/process-schema.js';
import type { Store } from '../store/db.js';
import { latestProcess } from '../store/processes.js';

/** The current process, parsed once per version: each request then costs one small query. */
export class ProcessCache {
  private cached: { version: number; process: Process } | null = null;

  constructor(private readonly store: Store) {}

  async current(): Promise<{ version: number; process: Process } | null> {
    const row = await this.store.db
      .selectFrom('process_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    const v = row?.v === null || row?.v === undefined ? null : Number(row.v);
    if (v === null) return null;
    if (this.cached?.version !== v) {
      const stored = await latestProcess(this.store.db);
      if (!stored) return null;
      this.cached = { version: stored.version, process: stored.process };
    }
    return this.cached;
  }
}
