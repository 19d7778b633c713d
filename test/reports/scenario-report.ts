import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DialectName, Store } from '../../src/store/db.js';
import { runReport, type ReportOutput, type ReportRequest } from '../../src/reports/run-report.js';
import { simulate } from '../../src/simulate.js';
import { openStore } from '../../src/store/db.js';
import { freshStore } from '../support/stores.js';

/**
 * A report test's data: the scenario folder's process and events fed through the real engine
 * (simulate(), timers included) into a fresh database of the dialect.
 */
export async function scenarioStore(dialect: DialectName, scenario: string, url?: string): Promise<Store> {
  const dir = join(import.meta.dirname, 'scenarios', scenario);
  // A given database URL (a fresh one) lets a CLI test open the same database afterwards.
  const store = url === undefined ? await freshStore(dialect) : await openStore(url);
  const result = await simulate({
    processText: readFileSync(join(dir, 'process.yaml'), 'utf8'),
    eventsText: readFileSync(join(dir, 'events.jsonl'), 'utf8'),
    store,
  });
  if (result.rejected.length > 0) {
    await store.close();
    throw new Error(`scenario ${scenario}: events rejected: ${JSON.stringify(result.rejected)}`);
  }
  return store;
}

/** Runs a report with the test's fixed clock. */
export function report(
  store: Store,
  name: string,
  now: string,
  req: Omit<ReportRequest, 'name' | 'now'> = {},
): Promise<ReportOutput> {
  return runReport(store, { name, now: Date.parse(now), ...req });
}
