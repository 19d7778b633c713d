import { describe, expect, it } from 'vitest';
import { loadProcessText } from '../../src/engine/process-service.js';
import { planLead, ProcessDirectory, type PlanContext, type PlanResult } from '../../src/import/plan.js';
import type { ImportRecord } from '../../src/import/record.js';
import { fixtureText, IMPORT_NOW, utc } from './support.js';

const process = loadProcessText(fixtureText('process.yaml'));
const dir = new ProcessDirectory(process);
const ctx: PlanContext = {
  process,
  processVersion: 3,
  source: 'test',
  stageNames: { 'Closed Won': 'won', 'Closed Lost': 'lost', Angebot: 'proposal' },
  now: IMPORT_NOW,
};

function record(r: Partial<ImportRecord>): ImportRecord {
  return {
    file: 'deals.csv',
    line: 7,
    sourceId: '1',
    name: null,
    email: null,
    phone: null,
    company: null,
    owner: null,
    value: null,
    product: null,
    territory: null,
    source: null,
    pipeline: null,
    stage: null,
    status: null,
    createdAt: utc('2026-01-05T08:00'),
    closedAt: null,
    expectedClose: null,
    closeReason: null,
    lastStageChange: null,
    stageDates: [],
    fields: {},
    ...r,
  };
}

function planned(result: PlanResult): Extract<PlanResult, { ok: true }>['lead'] {
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.lead;
}

function errors(result: PlanResult): string[] {
  return result.ok ? [] : result.problems.map((p) => `${p.file}:${p.line}: ${p.column}: ${p.message}`);
}

describe('planLead', () => {
  it('resolves the owner by id, name or email, without case', () => {
    for (const owner of ['ben', 'Ben Okafor', 'BEN@acme.example', ' ben '.trim()])
      expect(planned(planLead(record({ owner }), dir, ctx)).state.owner).toBe('ben');
    expect(planned(planLead(record({}), dir, ctx)).state.owner).toBeNull();
    expect(errors(planLead(record({ owner: 'Zed Nobody' }), dir, ctx))).toEqual([
      'deals.csv:7: owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
    ]);
  });

  it('resolves the stage by id, by name, or through the mapping, and the pipeline from the stage', () => {
    const at = (stage: string): [string, string] => {
      const l = planned(planLead(record({ stage }), dir, ctx));
      return [l.state.pipeline, l.state.stay.stage];
    };
    expect(at('demo')).toEqual(['nb', 'demo']);
    expect(at('Demo Scheduled')).toEqual(['nb', 'demo']);
    expect(at('contract sent')).toEqual(['hs', 'contract']);
    expect(at('Angebot')).toEqual(['nb', 'proposal']);
    expect(at('Proposal/Price Quote')).toEqual(['sf', 'quote']);
    expect(errors(planLead(record({ stage: 'Signed' }), dir, ctx))).toEqual([
      'deals.csv:7: stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
    ]);
  });

  it('selects the pipeline by id or name; a stage must belong to it', () => {
    expect(
      planned(planLead(record({ pipeline: 'Sales Pipeline', stage: 'Qualified To Buy' }), dir, ctx)).state.pipeline,
    ).toBe('hs');
    expect(planned(planLead(record({ pipeline: 'sf' }), dir, ctx)).state.stay.stage).toBe('prospecting');
    expect(errors(planLead(record({ pipeline: 'Renewals', stage: 'Qualified' }), dir, ctx))).toEqual([
      'deals.csv:7: pipeline: unknown pipeline "Renewals"',
    ]);
    expect(errors(planLead(record({ pipeline: 'Sales Pipeline', stage: 'Demo Scheduled' }), dir, ctx))[0]).toContain(
      'unknown stage "Demo Scheduled" in pipeline hs',
    );
    // No pipeline and no stage: the default pipeline's first stage.
    const l = planned(planLead(record({}), dir, ctx));
    expect([l.state.pipeline, l.state.stay.stage, l.state.status]).toEqual(['nb', 'qualified', 'open']);
  });

  it('won or lost from the status column, or from a stage that means it', () => {
    const won = planned(
      planLead(record({ stage: 'Proposal Made', status: 'won', closedAt: utc('2026-02-01T10:00') }), dir, ctx),
    );
    expect([won.state.status, won.state.stay.stage, won.state.closedAt]).toEqual([
      'won',
      'proposal',
      utc('2026-02-01T10:00'),
    ]);
    const lost = planned(
      planLead(record({ stage: 'Closed Lost', closedAt: utc('2026-02-01T10:00'), closeReason: 'Budget' }), dir, ctx),
    );
    expect([lost.state.status, lost.state.closeReason, lost.stays.at(-1)?.exitKind]).toEqual([
      'lost',
      'Budget',
      'lost',
    ]);
    // A closed deal's stage says only "won": its dated stages name the pipeline and the stage it closed in.
    const hs = planned(
      planLead(
        record({
          stage: 'Closed Won',
          closedAt: utc('2026-02-20T16:00'),
          stageDates: [
            { stage: 'Appointment Scheduled', at: utc('2026-01-05T08:00') },
            { stage: 'Contract Sent', at: utc('2026-01-30T08:00') },
            { stage: 'Closed Won', at: utc('2026-02-20T16:00') },
          ],
        }),
        dir,
        ctx,
      ),
    );
    expect([hs.state.pipeline, hs.state.stay.stage, hs.stays.map((s) => s.exitKind)]).toEqual([
      'hs',
      'contract',
      ['moved', 'won'],
    ]);
    // Open: no close date even when the export has one (it is the expected close then).
    const open = planned(planLead(record({ status: 'open', closedAt: utc('2026-04-30T00:00') }), dir, ctx));
    expect([open.state.closedAt, open.state.closeReason]).toEqual([null, null]);
  });

  it('a closed deal needs its close date, and cannot close before it was created', () => {
    expect(errors(planLead(record({ status: 'won' }), dir, ctx))).toEqual([
      'deals.csv:7: closed_at: a won deal needs its close date',
    ]);
    expect(errors(planLead(record({ status: 'lost', closedAt: utc('2025-12-24T09:00') }), dir, ctx))).toEqual([
      'deals.csv:7: closed_at: closes (2025-12-24) before it was created (2026-01-05)',
    ]);
  });

  it('keeps the value, contact and custom fields, keys the lead by source and record id', () => {
    const l = planned(
      planLead(
        record({
          sourceId: 'G-1',
          name: 'Hans Müller',
          email: 'hans@mueller.example',
          company: 'Müller GmbH',
          value: 12500,
          product: 'GTX Pro',
          territory: 'DACH',
          expectedClose: utc('2026-03-31T00:00'),
          fields: { segment: 'SME' },
        }),
        dir,
        ctx,
      ),
    );
    expect(l.id).toBe('test:G-1');
    expect(l.state).toMatchObject({ processVersion: 3, seq: 0, tasks: [], createdAt: utc('2026-01-05T08:00') });
    expect(l.state.fields).toEqual({
      segment: 'SME',
      name: 'Hans Müller',
      email: 'hans@mueller.example',
      company: 'Müller GmbH',
      value: 12500,
      product: 'GTX Pro',
      territory: 'DACH',
      expected_close: '2026-03-31T00:00:00.000Z',
    });
  });

  it('a record without any date is created at the import time, and said so', () => {
    const l = planned(planLead(record({ createdAt: null }), dir, ctx));
    expect([l.createdEstimated, l.state.createdAt]).toEqual([true, IMPORT_NOW]);
  });

  it('an open deal whose stall time passed before the import is marked stalled (no alert fires for old data)', () => {
    const old = planned(planLead(record({ createdAt: utc('2025-06-01T08:00') }), dir, ctx));
    expect(old.state.stay.stalledAt).toBe(old.state.stay.stallAt);
    const fresh = planned(planLead(record({ createdAt: IMPORT_NOW - 86_400_000 }), dir, ctx));
    expect(fresh.state.stay.stalledAt).toBeNull();
  });
});
