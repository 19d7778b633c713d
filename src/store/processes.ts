import { createHash } from 'node:crypto';
import type { Process } from '../domain/process-schema.js';
import { sql } from 'kysely';
import type { Tx } from './db.js';

/** Process versions: each apply stores a new immutable version. */

export interface StoredProcess {
  version: number;
  process: Process;
  source: string;
  appliedAt: number;
}

export async function latestProcess(tx: Tx): Promise<StoredProcess | null> {
  const row = await tx
    .selectFrom('process_versions')
    .selectAll()
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row
    ? {
        version: row.version,
        process: JSON.parse(row.definition) as Process,
        source: row.source,
        appliedAt: row.applied_at,
      }
    : null;
}

export async function processVersion(tx: Tx, version: number): Promise<StoredProcess | null> {
  const row = await tx.selectFrom('process_versions').selectAll().where('version', '=', version).executeTakeFirst();
  return row
    ? {
        version: row.version,
        process: JSON.parse(row.definition) as Process,
        source: row.source,
        appliedAt: row.applied_at,
      }
    : null;
}

/** Every version after `version`, oldest first: versions are immutable, so a reader adds only new ones. */
export async function processesAfter(tx: Tx, version: number): Promise<{ version: number; process: Process }[]> {
  const rows = await tx
    .selectFrom('process_versions')
    .select(['version', 'definition'])
    .where('version', '>', version)
    .orderBy('version')
    .execute();
  return rows.map((r) => ({ version: r.version, process: JSON.parse(r.definition) as Process }));
}

export async function listProcessVersions(
  tx: Tx,
): Promise<{ version: number; name: string; appliedAt: number; checksum: string }[]> {
  const rows = await tx
    .selectFrom('process_versions')
    .select(['version', 'name', 'applied_at', 'checksum'])
    .orderBy('version')
    .execute();
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at, checksum: r.checksum }));
}

export async function insertProcessVersion(
  tx: Tx,
  process: Process,
  source: string,
  now: number,
  by: string | null,
): Promise<number> {
  const latest = await latestProcess(tx);
  const version = (latest?.version ?? 0) + 1;
  await tx
    .insertInto('process_versions')
    .values({
      version,
      name: process.name,
      source,
      definition: JSON.stringify(process),
      checksum: createHash('sha256').update(JSON.stringify(process)).digest('hex').slice(0, 16),
      applied_at: now,
      applied_by: by,
    })
    .execute();
  return version;
}

/**
 * PostgreSQL: the transaction-scoped advisory lock that orders process applies against the writers
 * that read the latest version (a new lead, a reopened one). An apply holds it exclusively, so a
 * lead created meanwhile waits and then runs under the new version rather than under the old one
 * without apply seeing it; those writers share it, so they never wait for each other. (SQLite's
 * BEGIN IMMEDIATE already runs one writer at a time.)
 */
const PROCESS_APPLY_LOCK = 0x5f_70_72_6f; // "_pro": any constant, the same in every process

export async function lockProcessVersions(tx: Tx, mode: 'apply' | 'read-latest'): Promise<void> {
  if (mode === 'apply') await sql`select pg_advisory_xact_lock(${PROCESS_APPLY_LOCK})`.execute(tx);
  else await sql`select pg_advisory_xact_lock_shared(${PROCESS_APPLY_LOCK})`.execute(tx);
}
