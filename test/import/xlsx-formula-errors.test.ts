import { describe, expect, it } from 'vitest';
import { FormulaErrors } from '../../src/import/xlsx-formula-errors.js';

/** The cached errors of formula cells, found in the worksheet's XML wherever its chunks are cut. */

const XML =
  '<worksheet><cols><col min="1" max="2"/></cols><sheetData><row r="2">' +
  '<c r="A2" s="1"/><c r="B2" t="e"><f>VLOOKUP(M2,Owners!A:B,2,FALSE)</f><v>#N/A</v></c>' +
  '<c r="C2" t="e"><v>#REF!</v></c><c r="D2"><f>1+1</f><v>2</v></c>' +
  '<c r="E2" s="3" t="e"><f t="shared" si="0"/><v>#VALUE!</v></c><c r="F2" t="str"><f>"e"</f><v>e</v></c>' +
  '</row></sheetData><conditionalFormatting><cfRule type="x"/></conditionalFormatting></worksheet>';

function found(errors: FormulaErrors): Record<string, string | undefined> {
  return Object.fromEntries(['A2', 'B2', 'C2', 'D2', 'E2', 'F2'].map((ref) => [ref, errors.take(ref)]));
}

const EXPECTED = { A2: undefined, B2: '#N/A', C2: undefined, D2: undefined, E2: '#VALUE!', F2: undefined };

describe('FormulaErrors', () => {
  it('finds the cached error of formula cells only, at every cut of the XML into two chunks', () => {
    const wrong: number[] = [];
    for (let cut = 0; cut <= XML.length; cut++) {
      const errors = new FormulaErrors();
      errors.scan(XML.slice(0, cut));
      errors.scan(XML.slice(cut));
      if (JSON.stringify(found(errors)) !== JSON.stringify(EXPECTED)) wrong.push(cut);
    }
    expect(wrong).toEqual([]);
  });

  it('gives each error once, and keeps nothing of cells without one', () => {
    const errors = new FormulaErrors();
    for (const ch of XML) errors.scan(ch);
    expect(found(errors)).toEqual(EXPECTED);
    expect(found(errors)).toEqual({ ...EXPECTED, B2: undefined, E2: undefined });
  });
});
