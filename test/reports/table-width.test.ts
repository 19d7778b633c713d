import { describe, expect, it } from 'vitest';
import { displayWidth, table } from '../../src/cli/output.js';

/** The report table pads by terminal columns: a product named in CJK does not shift its row. */

describe('table widths', () => {
  it('counts wide characters as two columns, combining marks as none', () => {
    expect(displayWidth('Analytics 製品')).toBe(14);
    expect(displayWidth('한국어')).toBe(6);
    expect(displayWidth('ＡＢ')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('Zoë')).toBe(3);
  });

  it('lines up the columns after a CJK group name', () => {
    const lines = table(
      [
        ['product', 'count', 'sum'],
        ['Analytics', '78', '2,641,000'],
        ['Analytics 製品', '2', '59,800'],
      ],
      '  ',
      [false, true, true],
    );
    expect(lines).toEqual([
      '  product         count        sum',
      '  Analytics          78  2,641,000',
      '  Analytics 製品      2     59,800',
    ]);
    // Every line ends at the same terminal column.
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
  });
});
