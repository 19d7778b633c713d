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
 * `import --automations`: taking a batch's open leads live is covered by the batch's checkpoint.
 * A run stopped while activating (here an engine write refused by the database, as a kill or a
 * crash would stop it) saves neither the batch nor its checkpoint, so the resumed run writes the
 * batch again and activates it; no open lead is left in its imported stay.
 */

const store = importStores();

const HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,' +
  'Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,Deal - Expected close date,' +
  'Deal - Last stage change,Organization - Name,Person - Email,Person - Phone';
const openDeal = (id: number): string =>
  `${id},Deal ${id},100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-0${id} 10:00:00,,,,,,Org,,`;

function csv(rows: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-activate-')), 'pd.csv');
  writeFileSync(path, [HEADER, ...rows].join('\n'));
  return path;
}

function importLive(s: Store, path: string, opts: Partial<ImportOptions> = {}): ReturnType<typeof runImport> {
  return runImport(s, {
    format: 'pipedrive',
    path,
    dryRun: false,
    skipInvalid: false,
    automations: true,
    batchSize: 2,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
    ...opts,
  });
}

/** The database refuses the activation event of one lead: the engine's write fails mid-activation. */
async function refuseActivation(s: Store, dialect: string, lead: string): Promise<void> {
  const when = `new.lead_id = '${lead}' and new.type = 'lead.activated'`;
  if (dialect === 'sqlite')
    await sql
      .raw(
        `create trigger refuse before insert on events when ${when} begin select raise(abort, 'refused by test'); end`,
      )
      .execute(s.db);
  else {
    await sql
      .raw(
        `create function refuse() returns trigger language plpgsql as $$ begin if ${when} then raise exception 'refused by test'; end if; return new; end $$`,
      )
      .execute(s.db);
    await sql.raw('create trigger refuse before insert on events for each row execute function refuse()').execute(s.db);
  }
}

async function dropRefusal(s: Store, dialect: string): Promise<void> {
  await sql.raw(dialect === 'sqlite' ? 'drop trigger refuse' : 'drop trigger refuse on events').execute(s.db);
}

/** Open leads whose open stay is still the imported one: never taken live. */
async function notLive(s: Store): Promise<string[]> {
  const rows = await s.db
    .selectFrom('leads as l')
    .innerJoin('stage_stays as s', 's.lead_id', 'l.id')
    .select('l.id')
    .where('l.status', '=', 'open')
    .where('s.exited_at', 'is', null)
    .where('s.imported', '=', 1)
    .orderBy('l.id')
    .execute();
  return rows.map((r) => r.id);
}

describe.each(dialects)('import --automations stopped while activating, on %s', (dialect) => {
  it('saves the batch only with its activation; the resumed run takes every open lead live', async () => {
    const s = await store(dialect);
    const path = csv([1, 2, 3, 4, 5].map(openDeal));
    await refuseActivation(s, dialect, 'pipedrive:4');
    const failed = await importLive(s, path).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(ImportInterrupted);
    // The first batch (lines 2-3) is saved and live; the second (lines 4-5) is not saved at all.
    expect(failed).toMatchObject({ checkpointLine: 3, written: 2 });
    const run = await s.db.selectFrom('import_runs').selectAll().executeTakeFirstOrThrow();
    expect([run.status, run.checkpoint_line, run.rows_written]).toEqual(['writing', 3, 2]);
    expect(await s.db.selectFrom('leads').select('id').orderBy('id').execute()).toEqual([
      { id: 'pipedrive:1' },
      { id: 'pipedrive:2' },
    ]);
    expect(await notLive(s)).toEqual([]);

    await dropRefusal(s, dialect);
    const resumed = await importLive(s, path);
    expect(resumed).toMatchObject({ outcome: 'imported', resumedFromLine: 3, written: 5, activated: 3 });
    expect(await s.db.selectFrom('leads').select('id').execute()).toHaveLength(5);
    expect(await notLive(s)).toEqual([]);
  });
});
