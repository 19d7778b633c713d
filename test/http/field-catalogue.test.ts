import { afterEach, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { dialects } from '../support/stores.js';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';

/**
 * The field catalogue (review r6, finding 11): GET /fields lists what a lead may have; with a
 * `fields:` section a write to an undeclared field or of a value not of its type is a 400 naming
 * `body.fields.<name>`; null removes a field; `field.<key>=` filters the lead list.
 */

const CATALOGUE = `
fields:
  - { key: seats, label: Seats, type: number, help: People who would use it }
  - { key: decision_maker, label: Decision maker, type: text }
  - { key: plan, label: Plan, type: select, options: [Starter, Pro] }
  - { key: territory, label: Territory, type: select, options: [north, south] }
`;

interface Lead {
  id: string;
  fields: Record<string, unknown>;
}
interface ProblemBody {
  errors?: { field: string; message: string }[];
}
interface Catalogue {
  version: number;
  open: boolean;
  items: { key: string; label: string; type: string; options?: string[]; help?: string; builtIn: boolean }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(dialect: (typeof dialects)[number], process = TEST_PROCESS + CATALOGUE) {
  const s = await startServer(dialect, { process });
  servers.push(s);
  return { s, admin: await tokenFor(s, 'admin') };
}

const errorsOf = (body: unknown) => (body as ProblemBody).errors ?? [];

describe.each(dialects)('the field catalogue over the API (%s)', (dialect) => {
  it('lists the built-in fields and the declared ones, to any signed-in user', async () => {
    const { s } = await server(dialect);
    const rep = await tokenFor(s, 'rep-b1', ['leads:read']);
    const r = await call(s, 'GET', '/api/v1/fields', { token: rep });
    expect(r.status, r.text).toBe(200);
    const body = r.body as Catalogue;
    expect(body.open).toBe(false);
    const byKey = new Map(body.items.map((f) => [f.key, f]));
    expect(byKey.get('seats')).toEqual({
      key: 'seats',
      label: 'Seats',
      type: 'number',
      help: 'People who would use it',
      builtIn: false,
    });
    expect(byKey.get('plan')?.options).toEqual(['Starter', 'Pro']);
    expect(byKey.get('value')).toMatchObject({ type: 'money', builtIn: true });
    expect(byKey.get('forecast_category')?.options).toEqual(['commit', 'best_case', 'pipeline']);
    // A built-in text field the process narrows to a select stays built-in, with its options.
    expect(byKey.get('territory')).toMatchObject({ type: 'select', options: ['north', 'south'], builtIn: true });
  });

  it('refuses an undeclared field with a hint, and values not of their type, naming each field', async () => {
    const { s, admin } = await server(dialect);
    const created = await call(s, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a1', fields: { seats: '40', plan: 'pro', territory: 'North' } },
    });
    expect(created.status, created.text).toBe(201);
    const lead = created.body as Lead;
    // Stored as the catalogue spells it: a number as a number, a select's option as listed.
    expect(lead.fields).toMatchObject({ seats: 40, plan: 'Pro', territory: 'north' });

    const typo = await call(s, 'PATCH', `/api/v1/leads/${lead.id}`, {
      token: admin,
      headers: { 'if-match': '*' },
      body: { fields: { decison_maker: 'CFO', Value: 'lots' } },
    });
    expect(typo.status, typo.text).toBe(400);
    const errors = errorsOf(typo.body);
    expect(errors.map((e) => e.field)).toEqual(['body.fields.decison_maker', 'body.fields.Value']);
    expect(errors[0]?.message).toContain('did you mean decision_maker?');
    expect(errors[1]?.message).toContain('did you mean value?');

    const mistyped = await call(s, 'PATCH', `/api/v1/leads/${lead.id}`, {
      token: admin,
      headers: { 'if-match': '*' },
      body: { fields: { seats: 'many', plan: 'Enterprise' } },
    });
    expect(mistyped.status, mistyped.text).toBe(400);
    expect(errorsOf(mistyped.body)).toEqual([
      { field: 'body.fields.seats', message: 'must be a number, not "many"' },
      { field: 'body.fields.plan', message: 'must be one of Starter, Pro, not "Enterprise"' },
    ]);

    const refusedCreate = await call(s, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a1', fields: { sets: 3 } },
    });
    expect(refusedCreate.status).toBe(400);
    expect(errorsOf(refusedCreate.body).map((e) => e.field)).toEqual(['body.fields.sets']);

    const after = await call(s, 'GET', `/api/v1/leads/${lead.id}`, { token: admin });
    expect(Object.keys((after.body as Lead).fields)).not.toContain('decison_maker');
  });

  it('removes a field written as null, and records it as cleared in the field history', async () => {
    const { s, admin } = await server(dialect);
    const created = await call(s, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a1', fields: { seats: 12, decision_maker: 'CFO', plan: null } },
    });
    expect(created.status, created.text).toBe(201);
    const lead = created.body as Lead;
    expect(Object.keys(lead.fields)).not.toContain('plan');

    const cleared = await call(s, 'PATCH', `/api/v1/leads/${lead.id}`, {
      token: admin,
      headers: { 'if-match': '*' },
      body: { fields: { decision_maker: null } },
    });
    expect(cleared.status, cleared.text).toBe(200);
    expect(Object.keys((cleared.body as Lead).fields)).not.toContain('decision_maker');
    const read = await call(s, 'GET', `/api/v1/leads/${lead.id}`, { token: admin });
    expect(Object.keys((read.body as Lead).fields)).not.toContain('decision_maker');
    expect((read.body as Lead).fields['seats']).toBe(12);

    const history = await call(s, 'GET', `/api/v1/leads/${lead.id}/history`, { token: admin });
    expect(history.status, history.text).toBe(200);
    const rows = (history.body as { items: { field: string | null; from: unknown; to: unknown }[] }).items;
    expect(rows.filter((r) => r.field === 'decision_maker').map((r) => [r.from, r.to])).toEqual([
      ['CFO', null],
      [null, 'CFO'],
    ]);
  });

  it('filters the lead list by declared fields, and refuses unknown fields or values by parameter', async () => {
    const { s, admin } = await server(dialect);
    const make = async (fields: Record<string, unknown>) => {
      const r = await call(s, 'POST', '/api/v1/leads', { token: admin, body: { owner: 'rep-a1', fields } });
      expect(r.status, r.text).toBe(201);
      return (r.body as Lead).id;
    };
    const forty = await make({ seats: 40, plan: 'Pro', decision_maker: 'CFO' });
    const pro = await make({ seats: 4, plan: 'Pro' });
    await make({ seats: 40, plan: 'Starter' });
    const list = async (query: string) => {
      const r = await call(s, 'GET', `/api/v1/leads?${query}`, { token: admin });
      expect(r.status, r.text).toBe(200);
      return (r.body as { items: Lead[] }).items.map((l) => l.id).sort();
    };
    expect(await list('field.seats=40&field.plan=pro')).toEqual([forty]);
    expect(await list('field.plan=PRO')).toEqual([forty, pro].sort());
    expect(await list('field.decision_maker=cfo')).toEqual([forty]);
    // Letters beyond ASCII fold alike on both databases (SQLite's own lower() leaves Ü as it is).
    const zurich = await make({ decision_maker: 'ZÜRICH Ölwerke' });
    for (const spelling of ['ZÜRICH Ölwerke', 'zürich ölwerke', 'Zürich Ölwerke'])
      expect(await list(`field.decision_maker=${encodeURIComponent(spelling)}`), spelling).toEqual([zurich]);

    const unknown = await call(s, 'GET', '/api/v1/leads?field.seat=40&field.plan=Enterprise', { token: admin });
    expect(unknown.status, unknown.text).toBe(400);
    const errors = errorsOf(unknown.body);
    expect(errors.map((e) => e.field)).toEqual(['query.field.seat', 'query.field.plan']);
    expect(errors[0]?.message).toContain('did you mean seats?');
    expect(errors[1]?.message).toContain('Starter, Pro');

    const stray = await call(s, 'GET', '/api/v1/leads?seats=40', { token: admin });
    expect(stray.status).toBe(400);
    expect(errorsOf(stray.body).map((e) => e.field)).toEqual(['query.seats']);
  });

  it('keeps the open map for a process without a fields section', async () => {
    const { s, admin } = await server(dialect, TEST_PROCESS);
    const fields = await call(s, 'GET', '/api/v1/fields', { token: admin });
    expect(fields.status).toBe(200);
    expect((fields.body as Catalogue).open).toBe(true);
    expect((fields.body as Catalogue).items.every((f) => f.builtIn)).toBe(true);

    const created = await call(s, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a1', fields: { decison_maker: 'CFO', seats: 'many' } },
    });
    expect(created.status, created.text).toBe(201);
    expect((created.body as Lead).fields).toMatchObject({ decison_maker: 'CFO', seats: 'many' });
    // Filters stay on the built-in fields: nothing says what an undeclared one holds.
    const filter = await call(s, 'GET', '/api/v1/leads?field.decison_maker=CFO', { token: admin });
    expect(filter.status).toBe(400);
    expect(errorsOf(filter.body)[0]?.message).toContain('declares no fields');

    // A catalogue adopted later: a field held from before it can still be removed (by null),
    // though it can no longer be written.
    await applyProcess(s.store, TEST_PROCESS + CATALOGUE, s.clock.now, 'test');
    const id = (created.body as Lead).id;
    const patch = (fields: Record<string, unknown>) =>
      call(s, 'PATCH', `/api/v1/leads/${id}`, { token: admin, headers: { 'if-match': '*' }, body: { fields } });
    expect((await patch({ decison_maker: 'CEO' })).status).toBe(400);
    const removed = await patch({ decison_maker: null });
    expect(removed.status, removed.text).toBe(200);
    expect(Object.keys((removed.body as Lead).fields)).not.toContain('decison_maker');
  });
});
