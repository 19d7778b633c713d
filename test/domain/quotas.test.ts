import { describe, expect, it } from 'vitest';
import { checkQuota, parseAmount, parseQuotaFile } from '../../src/domain/quotas.js';

const DIR = {
  users: [
    { id: 'anna', name: 'Anna Snelling' },
    { id: 'ben', name: 'Ben' },
  ],
  teams: [{ id: 'east', name: 'East' }],
};

describe('quota files', () => {
  it('reads CSV with an optional scope column, names or ids, amounts in major units', () => {
    const csv =
      'subject,period,amount,scope\nanna,2026-11,50000,\nanna snelling,2026-Q4,150000.5,user\neast,2026-11,90000,team\n';
    expect(parseQuotaFile(csv, 'csv', DIR)).toEqual({
      ok: true,
      quotas: [
        { scope: 'user', subject: 'anna', period: '2026-11', amountMinor: 5_000_000, line: 2 },
        { scope: 'user', subject: 'anna', period: '2026-Q4', amountMinor: 15_000_050, line: 3 },
        { scope: 'team', subject: 'east', period: '2026-11', amountMinor: 9_000_000, line: 4 },
      ],
    });
  });

  it('reports every problem with its line, and imports nothing', () => {
    const csv = 'subject,period,amount\nanna,2026-11,50000\nzoe,2026-11,1\nben,2026-13,-5\nanna,2026-11,7\n';
    expect(parseQuotaFile(csv, 'csv', DIR)).toEqual({
      ok: false,
      problems: [
        { line: 3, message: 'unknown user "zoe"' },
        { line: 4, message: 'period must be a month (2026-11) or quarter (2026-Q4), not "2026-13"' },
        { line: 4, message: 'amount must be a number >= 0 with at most 2 decimals, not "-5"' },
        { line: 5, message: 'user anna already has a quota for 2026-11 (line 2)' },
      ],
    });
    expect(parseQuotaFile('subject,amount\nanna,5\n', 'csv', DIR)).toMatchObject({
      ok: false,
      problems: [{ line: 1, message: expect.stringMatching(/column "period" is missing/) }],
    });
  });

  it('reads a YAML list with line numbers', () => {
    const yaml =
      '- { subject: anna, period: 2026-11, amount: 50000 }\n- subject: east\n  scope: team\n  period: 2026-Q4\n  amount: x\n';
    expect(parseQuotaFile(yaml, 'yaml', DIR)).toEqual({
      ok: false,
      problems: [{ line: 2, message: 'amount must be a number >= 0 with at most 2 decimals, not "x"' }],
    });
    expect(parseQuotaFile('subject: anna', 'yaml', DIR)).toEqual({
      ok: false,
      problems: [{ line: 1, message: 'expected a list of quotas' }],
    });
  });

  it('checks one quota as typed on the command line', () => {
    expect(checkQuota(DIR, { scope: 'team', subject: 'East', period: '2026-Q1', amount: '10' })).toEqual({
      ok: true,
      quota: { scope: 'team', subject: 'east', period: '2026-Q1', amountMinor: 1000 },
    });
    expect(parseAmount('1,000')).toBeNull();
    expect(parseAmount(12.345)).toBeNull();
  });
});
