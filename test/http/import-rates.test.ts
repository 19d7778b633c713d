import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * Exchange rates over HTTP: the Salesforce report fixture, in US dollars, imported into the euro
 * organisation of the import fixtures. Without rates it is refused line by line, with the fix in
 * the API's terms; with `rates=USD:0.9` its amounts are converted as the CLI's --rates does.
 */

const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'import', name), 'utf8');

interface Problem {
  type: string;
  code?: string;
  errors?: { field: string; message: string }[];
  report?: { outcome: string; converted: number; records: number; invalid: number };
}

describe.each(dialects)('import rates over HTTP on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  const body = { csv: fixture('salesforce-opportunities.csv'), mapping: fixture('salesforce-mapping.yaml') };
  const importWith = (query: string) =>
    call(server, 'POST', `/api/v1/imports/salesforce${query}`, { token: admin, body });

  beforeAll(async () => {
    server = await startServer(dialect, { process: fixture('process.yaml') });
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('refuses the dollar amounts without rates, naming each line, the currency and the query parameter', async () => {
    const r = await importWith('?filename=opportunities.csv');
    expect(r.status).toBe(422);
    const p = r.body as Problem;
    expect(p.code).toBe('import_invalid');
    const noRate =
      "Amount: the value is in USD, not EUR (the organisation's currency), and no exchange rate for USD was given: " +
      'send its rate in the query parameter rates, such as rates=USD:RATE (1 USD = RATE EUR)';
    expect(p.errors).toEqual([2, 3, 4].map((line) => ({ field: `line ${line}`, message: noRate })));
    expect(p.report).toMatchObject({ outcome: 'refused', records: 4, invalid: 3, converted: 0 });
    const leads = await call(server, 'GET', '/api/v1/leads', { token: admin });
    expect((leads.body as { items: unknown[] }).items).toEqual([]);
  });

  it('converts them with rates=USD:0.9, reports how many, and keeps what the file said', async () => {
    const checked = await importWith('?dry_run=true&rates=USD:0.9');
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({ outcome: 'checked', errors: 0, converted: 3 });

    const r = await importWith('?rates=USD:0.9,GBP:1.16');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0, converted: 3 });
    // 12,500.00 USD at 0.9 is 11,250.00 EUR.
    const lead = await call(server, 'GET', '/api/v1/leads/salesforce:0065g00000AbCdE1', { token: admin });
    expect(lead.status).toBe(200);
    expect(lead.body).toMatchObject({
      value: 11250,
      fields: { original_value: 12500, original_currency: 'USD', exchange_rate: 0.9 },
    });
    const won = await call(server, 'GET', '/api/v1/leads/salesforce:0065g00000AbCdE2', { token: admin });
    expect(won.body).toMatchObject({ status: 'won', value: 7200 });
  });

  it('refuses rates it cannot read, naming the parameter and each pair at fault', async () => {
    const bad = await importWith('?rates=USD:abc,GBP:1.16,gbp:1.2');
    expect(bad.status).toBe(400);
    const p = bad.body as Problem;
    expect(p.type).toBe('https://stageflow.dev/problems/validation-failed');
    expect(p.errors).toEqual([
      {
        field: 'query.rates',
        message:
          'pair 1 "USD:abc": expected CODE:RATE, a three-letter currency and a positive number with a decimal point (such as USD:0.92)',
      },
      { field: 'query.rates', message: 'pair 3: GBP has a rate already (pair 2)' },
    ]);
    const zero = await importWith('?rates=USD:0');
    expect((zero.body as Problem).errors?.[0]?.message).toMatch(/^pair 1 "USD:0": expected CODE:RATE/);

    // The organisation's own currency is worth exactly 1: the service's check, named the same way.
    const home = await importWith('?rates=USD:0.9,EUR:1.1');
    expect(home.status).toBe(400);
    expect((home.body as Problem).errors).toEqual([
      { field: 'query.rates', message: "pair 2: EUR is the organisation's currency: its rate can only be 1" },
    ]);
  });
});
