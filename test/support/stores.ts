import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type DialectName, type Store } from '../../src/store/db.js';

/**
 * Real databases for tests: a fresh SQLite file, or a fresh database on the PostgreSQL server
 * that the global setup started. Each call makes its own, so tests never clean up after others.
 */

export const dialects: DialectName[] = ['sqlite', 'postgres'];

export async function freshDatabaseUrl(dialect: DialectName): Promise<string> {
  if (dialect === 'sqlite') return join(mkdtempSync(join(tmpdir(), 'stageflow-test-')), 'stageflow.db');
  const admin = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  return admin.replace(/\/[^/?]*(\?.*)?$/, `/${name}$1`);
}

export async function freshStore(dialect: DialectName): Promise<Store> {
  return openStore(await freshDatabaseUrl(dialect));
}
