import { describe, expect, it } from 'vitest';
import { hubspotMapping } from '../../src/import/formats/hubspot.js';
import { pipedriveMapping } from '../../src/import/formats/pipedrive.js';
import { salesforceMapping } from '../../src/import/formats/salesforce.js';
import { compileMapping } from '../../src/import/map-row.js';
import { buildMapping } from '../../src/import/mapping.js';
import { formatImportProblem } from '../../src/import/record.js';

const PD_HEADER = [
  'Deal - ID',
  'Deal - Title',
  'Deal - Value',
  'Deal - Stage',
  'Deal - Owner',
  'Deal - Status',
  'Deal - Deal created',
  'Deal - Won time',
  'Deal - Lost time',
  'Deal - Last stage change',
  'Person - Email',
];

describe('compileMapping and mapRow', () => {
  it('maps a Pipedrive row: times in the zone, the value, the status, the close from the won time', () => {
    const c = compileMapping(pipedriveMapping, PD_HEADER, 'deals.csv', 'Europe/Berlin');
    expect(c.headerProblems).toEqual([]);
    const r = c.mapRow(
      [
        '102',
        'Globex renewal',
        '8000.5',
        'Proposal Made',
        'ben@acme.example',
        'Won',
        '2025-11-10 10:00:00',
        '2026-01-15 16:30:00',
        '',
        '2025-12-01 11:00:00',
        ' Hank@Globex.example ',
      ],
      3,
    );
    expect(r.problems).toEqual([]);
    expect(r.record).toMatchObject({
      file: 'deals.csv',
      line: 3,
      sourceId: '102',
      name: 'Globex renewal',
      value: 8000.5,
      stage: 'Proposal Made',
      status: 'won',
      owner: 'ben@acme.example',
      email: 'hank@globex.example',
      createdAt: { at: Date.parse('2025-11-10T09:00:00Z'), text: '2025-11-10 10:00:00', dateOnly: false },
      closedAt: { at: Date.parse('2026-01-15T15:30:00Z'), text: '2026-01-15 16:30:00', dateOnly: false },
      lastStageChange: { at: Date.parse('2025-12-01T10:00:00Z'), text: '2025-12-01 11:00:00', dateOnly: false },
    });
  });

  it("splits Pipedrive's Person - Name into first_name and last_name, unless the export has those columns", () => {
    const header = [
      'Deal - ID',
      'Deal - Title',
      'Deal - Value',
      'Deal - Stage',
      'Deal - Owner',
      'Deal - Status',
      'Deal - Deal created',
    ];
    const row = ['7', 'Acme deal', '100', 'Qualified', 'ben', 'open', '2025-11-10 10:00:00'];
    const split = compileMapping(pipedriveMapping, [...header, 'Person - Name'], 'deals.csv', 'Europe/Berlin');
    expect(split.headerProblems).toEqual([]);
    expect(split.mapRow([...row, ' Maria  de la Cruz '], 2).record?.fields).toEqual({
      first_name: 'Maria',
      last_name: 'de la Cruz',
    });
    expect(split.mapRow([...row, ''], 3).record?.fields).toEqual({});
    const own = compileMapping(
      pipedriveMapping,
      [...header, 'Person - Name', 'Person - First name', 'Person - Last name'],
      'deals.csv',
      'Europe/Berlin',
    );
    expect(own.mapRow([...row, 'Maria de la Cruz', 'Maria', 'de la Cruz'], 2).record?.fields).toEqual({
      first_name: 'Maria',
      last_name: 'de la Cruz',
    });
    expect(own.mapRow([...row, 'Maria de la Cruz', 'Maria Luisa', ''], 3).record?.fields).toEqual({
      first_name: 'Maria Luisa',
    });
  });

  it('names the file, line and column of every problem in a row, and keeps the id of a bad row', () => {
    const c = compileMapping(pipedriveMapping, PD_HEADER, 'deals.csv', 'UTC');
    const r = c.mapRow(['7', 'x', '12k', 'Qualified', 'anna', 'deleted', '2026-13-45', '', 'soon', '', ''], 12);
    // The record is kept for the checks of the other columns, with what did not read left out and named.
    expect(r.record).toMatchObject({ sourceId: '7', value: null, createdAt: null, closedAt: null, status: null });
    expect([...r.record.unreadable].sort()).toEqual(['created_at', 'lost_at', 'status', 'value']);
    expect(r.sourceId).toBe('7');
    expect(r.problems.map(formatImportProblem)).toEqual([
      'deals.csv:12: Deal - Value: "12k" is not a number',
      'deals.csv:12: Deal - Deal created: "2026-13-45" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
      'deals.csv:12: Deal - Lost time: "soon" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
      'deals.csv:12: Deal - Status: unknown status "deleted" (expected open, won, lost)',
    ]);
    expect(c.mapRow(['', 'x', '1', 'Qualified', 'anna', 'open', '', '', '', '', ''], 4).problems).toEqual([
      { file: 'deals.csv', line: 4, column: 'Deal - ID', message: 'the record id is empty', severity: 'error' },
    ]);
    expect(c.mapRow(['8', 'x', '-5', 'Qualified', 'anna', 'open', '', '', '', '', ''], 5).problems[0]?.message).toBe(
      '-5 is negative',
    );
  });

  it('reports a column two fields read (close and expected close) once', () => {
    const header = [
      'Opportunity ID',
      'Opportunity Name',
      'Account Name',
      'Opportunity Owner',
      'Stage',
      'Close Date',
      'Created Date',
    ];
    const c = compileMapping(salesforceMapping, header, 'report.csv', 'UTC');
    const r = c.mapRow(['006A', 'n', 'a', 'anna', 'Prospecting', '30.4.2026', '1/15/2026'], 2);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'report.csv:2: Close Date: "30.4.2026" is not a date (expected M/d/yyyy or M/d/yyyy h:mm a or YYYY-MM-DD)',
    ]);
  });

  it('lists every mapped column missing from the header; optional ones may be absent', () => {
    const c = compileMapping(pipedriveMapping, ['Deal - ID', 'Deal - Title', 'Deal - Value'], 'deals.csv', 'UTC');
    expect(c.headerProblems.map((p) => p.column).sort()).toEqual([
      'Deal - Deal created',
      'Deal - Owner',
      'Deal - Stage',
      'Deal - Status',
    ]);
    expect(c.headerProblems.find((p) => p.column === 'Deal - Stage')).toEqual({
      file: 'deals.csv',
      line: 1,
      column: 'Deal - Stage',
      message: 'column "Deal - Stage" (mapped to stage) is not in the file\'s header',
      severity: 'error',
    });
  });

  it("finds HubSpot's per-stage date columns and dates the stages they name", () => {
    const header = [
      'Record ID',
      'Deal Name',
      'Deal Stage',
      'Deal owner',
      'Create Date',
      'Date entered "Appointment Scheduled (Sales Pipeline)"',
      'Date entered "Qualified To Buy (Sales Pipeline)"',
      'Date entered "Closed Won (Sales Pipeline)"',
    ];
    const c = compileMapping(hubspotMapping, header, 'hs.csv', 'UTC');
    expect(c.headerProblems).toEqual([]);
    const r = c.mapRow(
      ['9', 'd', 'Closed Won', 'Anna', '2026-01-01 08:00', '2026-01-01 08:00', '', '2026-02-01 09:30'],
      2,
    );
    expect(r.record.stageDates).toEqual([
      {
        stage: 'Appointment Scheduled',
        date: { at: Date.parse('2026-01-01T08:00:00Z'), text: '2026-01-01 08:00', dateOnly: false },
      },
      {
        stage: 'Closed Won',
        date: { at: Date.parse('2026-02-01T09:30:00Z'), text: '2026-02-01 09:30', dateOnly: false },
      },
    ]);
    const bad = c.mapRow(['9', 'd', 'Closed Won', 'Anna', '2026-01-01 08:00', 'Jan 1', '', ''], 3);
    expect(bad.problems[0]?.column).toBe('Date entered "Appointment Scheduled (Sales Pipeline)"');
    expect([...bad.record.unreadable]).toEqual(['stage_dates']);
  });

  it('applies aliases, custom fields, the mapping pipeline over a pipeline column, and the footer', () => {
    const m = buildMapping({
      source: 'legacy',
      pipeline: 'New business',
      columns: { id: 'Ref', product: 'Produkt', pipeline: 'Pipeline', value: 'Volumen' },
      fields: { segment: 'Segment' },
      aliases: { product: { GTXPro: 'GTX Pro' }, segment: { KMU: 'SME' } },
      numbers: { decimal: ',' },
      footer: ['^Summe'],
    });
    const c = compileMapping(m, ['Ref', 'Produkt', 'Pipeline', 'Volumen', 'Segment'], 'g.csv', 'UTC');
    const r = c.mapRow(['G-1', 'GTXPro', 'Renewals', '12.500,00', 'KMU'], 2);
    expect(r.record).toMatchObject({
      product: 'GTX Pro',
      pipeline: 'New business',
      value: 12500,
      fields: { segment: 'SME' },
    });
    expect(c.isFooter(['Summe (3 Datensätze)'])).toBe(true);
    expect(c.isFooter(['G-2'])).toBe(false);
    const sf = compileMapping(salesforceMapping, ['Opportunity ID'], 'r.csv', 'UTC');
    expect(sf.isFooter(['Grand Totals (4 records)'])).toBe(true);
    expect(sf.isFooter(['Confidential Information - Do Not Distribute'])).toBe(true);
    expect(sf.isFooter(['Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.'])).toBe(true);
  });

  it('a date alone is that calendar day in the organisation zone, a date and time is read in the mapping zone', () => {
    const m = buildMapping({
      source: 'legacy',
      columns: { id: 'Ref', created_at: 'Created', expected_close: 'Close' },
      dates: { formats: ['dd/MM/yyyy HH:mm', 'dd/MM/yyyy', 'iso'], zone: 'Europe/Berlin' },
    });
    // Organisation in New York (UTC-5 in winter, UTC-4 from 8 March 2026), export clock in Berlin.
    const c = compileMapping(m, ['Ref', 'Created', 'Close'], 'g.csv', 'America/New_York');
    const r = c.mapRow(['1', '15/01/2026 10:00', '15/03/2026'], 2).record;
    expect(r.createdAt).toEqual({ at: Date.parse('2026-01-15T09:00:00Z'), text: '15/01/2026 10:00', dateOnly: false });
    expect(r.expectedClose).toEqual({ at: Date.parse('2026-03-15T04:00:00Z'), text: '15/03/2026', dateOnly: true });
    const iso = c.mapRow(['2', '2026-03-07', '2026-03-08'], 3).record;
    expect([iso.createdAt?.at, iso.expectedClose?.at]).toEqual([
      Date.parse('2026-03-07T05:00:00Z'),
      Date.parse('2026-03-08T05:00:00Z'), // DST begins at 02:00 that day: its midnight is still EST
    ]);
  });

  it('reads the currency from its column, from a code in the amount, from the mapping or from a sign', () => {
    const m = buildMapping({ source: 'x', columns: { id: 'Id', value: 'Amount', currency: 'Currency' } });
    const c = compileMapping(m, ['Id', 'Amount', 'Currency'], 'c.csv', 'UTC');
    const cur = (amount: string, currency: string): [string | null, string | null, number | null] => {
      const r = c.mapRow(['1', amount, currency], 2).record;
      return [r.currency, r.currencyFrom, r.value];
    };
    expect(cur('100', 'usd')).toEqual(['USD', 'currency', 100]);
    expect(cur('USD 12,500.00', '')).toEqual(['USD', 'value', 12500]);
    expect(cur('12,500.00 GBP', '')).toEqual(['GBP', 'value', 12500]);
    expect(cur('€99.50', '')).toEqual(['EUR', 'value', 99.5]);
    expect(cur('$8,000.00', 'CAD')).toEqual(['CAD', 'currency', 8000]);
    expect(cur('100', '')).toEqual([null, null, 100]);
    expect(c.mapRow(['1', 'USD 5', 'EUR'], 7).problems.map(formatImportProblem)).toEqual([
      'c.csv:7: Amount: "USD 5" is in USD, but the currency column says EUR',
    ]);
    expect(c.mapRow(['1', '5', 'dollars'], 8).problems.map(formatImportProblem)).toEqual([
      'c.csv:8: Currency: "dollars" is not a currency code (three letters such as EUR or USD)',
    ]);
    const fileWide = compileMapping({ ...m, currency: 'CHF' }, ['Id', 'Amount', 'Currency'], 'c.csv', 'UTC');
    expect(fileWide.mapRow(['1', '$5', ''], 2).record.currency).toBe('CHF');
    expect(fileWide.mapRow(['1', 'USD 5', ''], 2).record.currency).toBe('USD');
  });
});
