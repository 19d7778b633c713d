import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ImportInterrupted, runImport, type ImportOptions } from '../../src/import/import-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * Running an import again: a record without any date keeps the created_at of its first import (it
 * moved to every new run's time, restarting its stays and stall clock), and a run that fails
 * half-way says what it saved and resumes after it when run again.
 */

const store = importStores();
const HOUR = 3_600_000;

const HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,' +
  'Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,Deal - Expected close date,' +
  'Deal - Last stage change,Organization - Name,Person - Email,Person - Phone';
const row = (id: number, created: string): string =>
  `${id},Deal ${id},100,EUR,Demo Scheduled,New business,Anna Schmidt,open,${created},,,,,,Org,,`;

function csv(rows: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-rerun-')), 'pd.csv');
  writeFileSync(path, [HEADER, ...rows].join('\n'));
  return path;
}

function importAt(s: Store, path: string, opts: Partial<ImportOptions> = {}): ReturnType<typeof runImport> {
  return runImport(s, {
    format: 'pipedrive',
    path,
    dryRun: false,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
    ...opts,
  });
}

/** A real constraint of the database that refuses one lead, as a full disk or a lost connection would. */
async function refuseLead(s: Store, dialect: string, id: string): Promise<void> {
  if (dialect === 'sqlite')
    await sql
      .raw(
        `create trigger refuse before insert on leads when new.id = '${id}' begin select raise(abort, 'refused by test'); end`,
      )
      .execute(s.db);
  else {
    await sql
      .raw(
        `create function refuse() returns trigger language plpgsql as $$ begin if new.id = '${id}' then raise exception 'refused by test'; end if; return new; end $$`,
      )
      .execute(s.db);
    await sql.raw('create trigger refuse before insert on leads for each row execute function refuse()').execute(s.db);
  }
}

async function dropRefusal(s: Store, dialect: string): Promise<void> {
  await sql.raw(dialect === 'sqlite' ? 'drop trigger refuse' : 'drop trigger refuse on leads').execute(s.db);
}

describe.each(dialects)('re-running an import on %s', (dialect) => {
  it('keeps the first import’s created_at of an undated record, and its stay', async () => {
    const s = await store(dialect);
    const path = csv([row(1, ''), row(2, '2026-01-05')]);
    await importAt(s, path);
    const r = await importAt(s, path, { now: IMPORT_NOW + 5 * HOUR });
    expect(r).toMatchObject({ outcome: 'imported', written: 2, createdAtImport: 1 });
    const lead = await s.db
      .selectFrom('leads')
      .select('created_at')
      .where('id', '=', 'pipedrive:1')
      .executeTakeFirstOrThrow();
    expect(Number(lead.created_at)).toBe(IMPORT_NOW);
    const stay = await s.db
      .selectFrom('stage_stays')
      .select('entered_at')
      .where('lead_id', '=', 'pipedrive:1')
      .executeTakeFirstOrThrow();
    expect(Number(stay.entered_at)).toBe(IMPORT_NOW);
  });

  it('says what a failed run saved, and resumes after it', async () => {
    const s = await store(dialect);
    const path = csv([row(1, '2026-01-05'), row(2, '2026-01-06'), row(3, '2026-01-07')]);
    await refuseLead(s, dialect, 'pipedrive:3');
    const failed = await importAt(s, path, { batchSize: 1 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(ImportInterrupted);
    const e = failed as ImportInterrupted;
    expect(e).toMatchObject({ checkpointLine: 3, written: 2 });
    expect(e.message).toMatch(
      /^the import stopped: .*refused by test.*\. 2 leads up to line 3 are saved \(run [0-9a-f-]+\); run the same command again to resume after the last saved line$/,
    );
    await dropRefusal(s, dialect);
    const r = await importAt(s, path, { batchSize: 1 });
    expect(r).toMatchObject({ outcome: 'imported', resumedFromLine: 3, runId: e.runId, written: 3 });
    const runs = await s.db.selectFrom('import_runs').select(['id', 'status']).execute();
    expect(runs).toEqual([{ id: e.runId, status: 'done' }]);
  });
});
