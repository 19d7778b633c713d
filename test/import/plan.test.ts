import { describe, expect, it } from 'vitest';
import { loadProcessText } from '../../src/engine/process-service.js';
import { planLead, ProcessDirectory, type PlanContext, type PlanResult } from '../../src/import/plan.js';
import type { DateCell, ImportRecord } from '../../src/import/record.js';
import { fixtureText, IMPORT_NOW, utc } from './support.js';

const process = loadProcessText(fixtureText('process.yaml'));
const dir = new ProcessDirectory(process);
const ctx: PlanContext = {
  process,
  processVersion: 3,
  source: 'test',
  stageNames: { 'Closed Won': 'won', 'Closed Lost': 'lost', Angebot: 'proposal' },
  now: IMPORT_NOW,
  rates: new Map(),
};

/** A date cell as a file would give it: the instant, and the text a message quotes. */
const cell = (iso: string, at = utc(iso)): DateCell => ({ at, text: iso, dateOnly: false });

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
    currency: null,
    currencyFrom: null,
    product: null,
    territory: null,
    source: null,
    pipeline: null,
    stage: null,
    status: null,
    createdAt: cell('2026-01-05T08:00'),
    closedAt: null,
    expectedClose: null,
    closeReason: null,
    lastStageChange: null,
    stageDates: [],
    fields: {},
    unreadable: new Set(),
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
      planLead(record({ stage: 'Proposal Made', status: 'won', closedAt: cell('2026-02-01T10:00') }), dir, ctx),
    );
    expect([won.state.status, won.state.stay.stage, won.state.closedAt]).toEqual([
      'won',
      'proposal',
      utc('2026-02-01T10:00'),
    ]);
    const lost = planned(
      planLead(record({ stage: 'Closed Lost', closedAt: cell('2026-02-01T10:00'), closeReason: 'Budget' }), dir, ctx),
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
          closedAt: cell('2026-02-20T16:00'),
          stageDates: [
            { stage: 'Appointment Scheduled', date: cell('2026-01-05T08:00') },
            { stage: 'Contract Sent', date: cell('2026-01-30T08:00') },
            { stage: 'Closed Won', date: cell('2026-02-20T16:00') },
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
    const open = planned(planLead(record({ status: 'open', closedAt: cell('2026-04-30T00:00') }), dir, ctx));
    expect([open.state.closedAt, open.state.closeReason]).toEqual([null, null]);
  });

  it('a closed deal needs its close date, and cannot close before it was created', () => {
    expect(errors(planLead(record({ status: 'won' }), dir, ctx))).toEqual([
      'deals.csv:7: closed_at: a won deal needs its close date',
    ]);
    expect(errors(planLead(record({ status: 'lost', closedAt: cell('2025-12-24T09:00') }), dir, ctx))).toEqual([
      'deals.csv:7: closed_at: closes on "2025-12-24T09:00", before it was created on "2026-01-05T08:00"',
    ]);
    // Closing before its current stage was entered names the close date's column too.
    expect(
      errors(
        planLead(
          record({
            status: 'lost',
            stage: 'Proposal',
            closedAt: cell('2026-02-01T09:00'),
            lastStageChange: cell('2026-02-10T09:00'),
          }),
          dir,
          ctx,
        ),
      ),
    ).toEqual([
      'deals.csv:7: closed_at: closes on "2026-02-01T09:00", before it entered Proposal Made on "2026-02-10T09:00"',
    ]);
  });

  it('refuses an email that is not an address, as the API does', () => {
    expect(errors(planLead(record({ email: 'not-an-email' }), dir, ctx))).toEqual([
      'deals.csv:7: email: "not-an-email" is not an email address',
    ]);
    expect(planned(planLead(record({ email: 'ann@example.com' }), dir, ctx)).state.fields['email']).toBe(
      'ann@example.com',
    );
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
          // A calendar day: its midnight in the organisation's zone (Berlin, summer time since 29 March).
          expectedClose: { at: utc('2026-03-30T22:00'), text: '2026-03-31', dateOnly: true },
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
      expected_close: '2026-03-31T00:00:00+02:00',
    });
  });

  it('a record without any date is created at the import time, and said so', () => {
    const l = planned(planLead(record({ createdAt: null }), dir, ctx));
    expect([l.createdEstimated, l.state.createdAt]).toEqual([true, IMPORT_NOW]);
  });

  it('an open deal whose stall time passed before the import is marked stalled (no alert fires for old data)', () => {
    const old = planned(planLead(record({ createdAt: cell('2025-06-01T08:00') }), dir, ctx));
    expect(old.state.stay.stalledAt).toBe(old.state.stay.stallAt);
    const fresh = planned(planLead(record({ createdAt: cell('yesterday', IMPORT_NOW - 86_400_000) }), dir, ctx));
    expect(fresh.state.stay.stalledAt).toBeNull();
  });

  it('checks every column of a row whatever the others hold: owner, stage and close all reported at once', () => {
    // The created date did not read (map-row reported it): the owner and stage are still checked,
    // and the history checks built on that date are skipped rather than failing on a stand-in.
    const r = planLead(
      record({
        owner: 'Zed Nobody',
        stage: 'Signed',
        createdAt: null,
        status: 'won',
        closedAt: cell('2025-12-24T09:00'),
        unreadable: new Set(['created_at']),
      }),
      dir,
      ctx,
    );
    expect(errors(r)).toEqual([
      'deals.csv:7: stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
      'deals.csv:7: owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
    ]);
    // A won deal whose close date did not read is not also told it needs one.
    expect(errors(planLead(record({ status: 'won', unreadable: new Set(['won_at']) }), dir, ctx))).toEqual([]);
    expect(planLead(record({ status: 'won', unreadable: new Set(['won_at']) }), dir, ctx).ok).toBe(false);
  });

  it("converts a value in another currency at the user's rate and keeps the original amount and currency", () => {
    const rates = new Map([['USD', 0.9]]);
    const usd = planned(
      planLead(record({ value: 12500, currency: 'USD', currencyFrom: 'currency' }), dir, { ...ctx, rates }),
    );
    expect(usd.converted).toBe(true);
    expect(usd.state.fields).toMatchObject({
      value: 11250,
      original_value: 12500,
      original_currency: 'USD',
      exchange_rate: 0.9,
    });
    // The organisation's own currency (EUR), or none named, imports as it is.
    for (const currency of ['EUR', null]) {
      const eur = planned(planLead(record({ value: 99.99, currency }), dir, { ...ctx, rates }));
      expect([eur.converted, eur.state.fields['value'], eur.state.fields['original_currency']]).toEqual([
        false,
        99.99,
        undefined,
      ]);
    }
    // No rate for the currency: an error naming it, where it was said, and the fix.
    expect(
      errors(planLead(record({ value: 100, currency: 'GBP', currencyFrom: 'currency' }), dir, { ...ctx, rates })),
    ).toEqual([
      'deals.csv:7: currency: the value is in GBP, not EUR (the organisation\'s currency), and no exchange rate for GBP was given: pass --rates FILE with a line "GBP,RATE" (1 GBP = RATE EUR)',
    ]);
    // Without an amount there is nothing to convert.
    expect(planned(planLead(record({ currency: 'GBP' }), dir, ctx)).state.fields['value']).toBeUndefined();
  });
});
