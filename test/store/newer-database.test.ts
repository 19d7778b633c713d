import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DatabaseNewer, openStore } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { stageflow } from '../cli/helpers.js';
import { dialects, freshDatabaseUrl } from '../support/stores.js';

/**
 * A database a newer release migrated (an upgrade rolled back) is refused as newer than the code,
 * naming the migrations this code does not know, never as "corrupted".
 */

const LATEST = Object.keys(migrations).sort().at(-1) ?? '';

async function upgradedByNewer(url: string): Promise<void> {
  const store = await openStore(url);
  await sql`insert into kysely_migration (name, timestamp) values ('0900_future', '2030-01-01T00:00:00.000Z'), ('0901_later', '2030-01-02T00:00:00.000Z')`.execute(
    store.db,
  );
  await store.close();
}

const MESSAGE =
  'this database was upgraded by a newer Stageflow: it has migrations this version does not know ' +
  `(0900_future, 0901_later; this version knows up to ${LATEST}). Run the newer version, ` +
  'or restore the backup taken before the upgrade';

describe.each(dialects)('a database migrated by a newer release on %s', (dialect) => {
  it('is refused as newer, naming the unknown migrations', async () => {
    const url = await freshDatabaseUrl(dialect);
    await upgradedByNewer(url);
    const failed = await openStore(url).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DatabaseNewer);
    expect((failed as Error).message).toBe(MESSAGE);
  });
});

it('the CLI says so in one line', async () => {
  const url = await freshDatabaseUrl('sqlite');
  await upgradedByNewer(url);
  const r = await stageflow(['--db', url, 'board']);
  expect(r).toMatchObject({ code: 1, stdout: '', stderr: `stageflow: cannot open database ${url}: ${MESSAGE}\n` });
});
