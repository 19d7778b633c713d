import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
