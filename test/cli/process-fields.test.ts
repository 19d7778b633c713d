import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: `process fields` lists the catalogue, and with one a lead write to an
 * undeclared field is refused naming it (review r6, finding 11), as the API refuses it.
 */

const WITH_FIELDS = `${PROCESS_YAML}fields:
  - { key: seats, label: Seats, type: number }
  - { key: territory, label: Territory, type: select, options: [us, eu] }
`;

describe('stageflow process fields and lead writes under a catalogue (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', WITH_FIELDS)]));
  });

  it('lists the built-in and declared fields', async () => {
    const out = ok(await cli(['process', 'fields'])).stdout;
    expect(out).toMatch(/^seats +number +Seats +declared/m);
    expect(out).toMatch(/^territory +select +Territory +built-in +us, eu$/m);
    const json = JSON.parse(ok(await cli(['--json', 'process', 'fields'])).stdout) as { open: boolean };
    expect(json.open).toBe(false);
  });

  it('refuses an undeclared field with a hint, and removes a field set to null', async () => {
    const typo = await cli(['lead', 'create', '--id', 'F1', '--field', 'sets=3']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('fields.sets: not a field of the process (did you mean seats?)');
    ok(await cli(['lead', 'create', '--id', 'F2', '--field', 'seats=3', '--field', 'territory=US']));
    ok(await cli(['lead', 'update', 'F2', '--field', 'seats=null']));
    const { fields } = JSON.parse(ok(await cli(['--json', 'lead', 'show', 'F2'])).stdout) as {
      fields: Record<string, unknown>;
    };
    expect(fields).toEqual(expect.objectContaining({ territory: 'us' }));
    expect('seats' in fields).toBe(false);
  });
});
