import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { leadPageSchema } from '../../src/http/schemas.js';
import { fastSerializer, responseSerializerCompiler } from '../../src/http/serializer.js';

/** Answers go out through fast-json-stringify compiled from the zod schemas: same JSON, nothing extra. */

const lead = {
  id: 'L-01M8F2SYMFC2HDC37RMTPX67H8',
  version: 1,
  pipeline: 'sales',
  stage: 'new',
  stageEnteredAt: '2026-11-27T18:03:13.937Z',
  status: 'open',
  owner: 'rep-a1',
  contact: { name: 'C1', email: 'b1@c1.example', phone: null, company: null },
  value: 1000.5,
  source: 'web',
  product: null,
  territory: 'north',
  expectedClose: null,
  fields: { territory: 'north', value: 1000.5, vip: true, note: 'say "hi"\n', gone: null },
  processVersion: 1,
  createdAt: '2026-11-27T18:03:13.937Z',
  updatedAt: '2026-11-27T18:03:13.937Z',
  closedAt: null,
  closeReason: null,
  error: null,
  importedFrom: null,
  lastActivityAt: '2026-03-02T10:00:00.000Z',
  nextTaskDueAt: null,
  openTasks: [
    {
      id: 'L-01M8F2SYMFC2HDC37RMTPX67H8#1:first-call',
      lead: 'L-01M8F2SYMFC2HDC37RMTPX67H8',
      stage: 'new',
      template: 'first-call',
      title: 'First call',
      kind: 'call',
      status: 'open',
      assignee: 'rep-a1',
      dueAt: '2026-11-27T22:03:13.937Z',
      overdueAt: '2026-11-28T22:03:13.937Z',
      createdAt: '2026-11-27T18:03:13.937Z',
      completedAt: null,
      skippedAt: null,
      skipReason: null,
      adHoc: false,
      note: null,
    },
  ],
  log: [
    { kind: 'routing', rule: 'sales', message: 'no entry criteria matched; default pipeline sales' },
    {
      kind: 'assignment',
      rule: 'north',
      message: 'created: rule north routed to rep-a1',
      inputs: { fields: { territory: 'north' }, passedOver: [] },
    },
  ],
  effects: ['email'],
};

describe('the response serializer', () => {
  it('writes a lead exactly as zod encoding and JSON.stringify did', () => {
    const fast = fastSerializer(leadPageSchema);
    expect(fast).not.toBeNull();
    const expected = JSON.stringify(z.encode(leadPageSchema, lead as never));
    expect(fast?.(lead)).toBe(expected);
    expect(JSON.parse(fast?.(lead) ?? 'null')).toEqual(lead);
  });

  it('leaves out properties the schema does not name, at any depth', () => {
    const leaky = {
      ...lead,
      passwordHash: 'secret',
      contact: { ...lead.contact, internalScore: 7 },
      openTasks: lead.openTasks.map((t) => ({ ...t, dueFired: false })),
    };
    const out = fastSerializer(leadPageSchema)?.(leaky) ?? '';
    expect(out).not.toMatch(/passwordHash|internalScore|dueFired/);
    expect(JSON.parse(out)).toEqual(lead);
  });

  it("falls back to zod's serializer for a schema JSON Schema cannot express, which still validates", () => {
    const odd = z.object({ at: z.date() });
    expect(fastSerializer(odd)).toBeNull();
    const serialize = responseSerializerCompiler({ schema: odd, method: 'GET', url: '/x', httpStatus: '200' });
    expect(serialize({ at: new Date(Date.UTC(2026, 10, 27)) })).toBe('{"at":"2026-11-27T00:00:00.000Z"}');
    expect(() => serialize({ at: 'yesterday' })).toThrow();
  });
});
