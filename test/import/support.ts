import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import type { DialectName, Store } from '../../src/store/db.js';
import { freshStore } from '../support/stores.js';

/** The import fixtures: exports of other CRMs and the process their users and stages belong to. */

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'import');
export { MAVEN_DIR } from '../support/maven.js';

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export function fixtureText(name: string): string {
  return readFileSync(fixture(name), 'utf8');
}

export const IMPORT_NOW = Date.parse('2026-03-02T09:00:00Z');

export const utc = (iso: string): number => Date.parse(iso.endsWith('Z') ? iso : `${iso}Z`);

/**
 * For a test file: a maker of fresh stores, each closed after its test, with the fixture process
 * applied (a day before IMPORT_NOW) unless `withProcess` is false.
 */
export function importStores(): (dialect: DialectName, withProcess?: boolean) => Promise<Store> {
  const open: Store[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (dialect, withProcess = true) => {
    const s = await freshStore(dialect);
    open.push(s);
    if (withProcess) await applyProcess(s, fixtureText('process.yaml'), IMPORT_NOW - 86_400_000, 'test');
    return s;
  };
}
