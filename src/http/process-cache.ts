import { withAvailability } from '../domain/availability.js';
import { addKnownStages, type KnownStages } from '../domain/process-filter.js';
import type { Process } from '../domain/process-schema.js';
import { availabilityRevision, storedOverrides, type StoredOverride } from '../store/availability.js';
import type { Store } from '../store/db.js';
import { latestProcess, processesAfter } from '../store/processes.js';

/** The current process with everyone's availability overrides merged in, and the overrides themselves. */
export interface EffectiveProcess {
  version: number;
  process: Process;
  overrides: StoredOverride[];
  /** The availability revision these overrides are from (store/availability.ts). */
  revision: number;
}

/** The current process, parsed once per version: each request then costs one small query. */
export class ProcessCache {
  private cached: { version: number; process: Process } | null = null;
  private effectiveCache: EffectiveProcess | null = null;
  private known: { version: number; stages: Map<string, Set<string>> } = { version: 0, stages: new Map() };

  constructor(private readonly store: Store) {}

  /** The latest version as applied (the file). */
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

  /**
   * The latest version with the availability overrides in place, as routing sees it: for what
   * shows people's availability. A change made by another process is seen by its revision.
   */
  async effective(): Promise<EffectiveProcess | null> {
    const [current, revision] = await Promise.all([this.current(), availabilityRevision(this.store.db)]);
    if (!current) return null;
    const hit = this.effectiveCache;
    if (hit && hit.version === current.version && hit.revision === revision) return hit;
    const overrides = await storedOverrides(this.store.db);
    const process = withAvailability(current.process, new Map(overrides.map((o) => [o.user, o.override])));
    this.effectiveCache = { version: current.version, process, overrides, revision };
    return this.effectiveCache;
  }

  /**
   * Every pipeline and stage any stored version had, for list filters: closed leads stay in a
   * stage a later version removed. Each version is read once, when it is first seen.
   */
  async knownStages(): Promise<KnownStages> {
    const current = await this.current();
    if (current && current.version > this.known.version) {
      const added = await processesAfter(this.store.db, this.known.version);
      const last = added[added.length - 1];
      if (last)
        this.known = {
          version: last.version,
          stages: addKnownStages(
            this.known.stages,
            added.map((a) => a.process),
          ),
        };
    }
    return this.known.stages;
  }
}
