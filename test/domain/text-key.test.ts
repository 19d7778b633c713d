import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldCase, nameKey } from '../../src/domain/text-key.js';

describe('foldCase', () => {
  it('folds every letter, not ASCII alone', () => {
    expect(foldCase('ÖKO GmbH')).toBe('öko gmbh');
    expect(foldCase('ÉLAN Été')).toBe('élan été');
    expect(foldCase('ΟΔΟΣ')).toBe('οδοσ');
    expect(foldCase('ÇAĞLA')).toBe('çağla');
  });

  it('makes one letter of a precomposed and a decomposed Ö, and of full-width letters', () => {
    expect(foldCase('O\u0308KO')).toBe(foldCase('ÖKO'));
    expect(foldCase('ＡＣＭＥ')).toBe('acme');
  });

  it('folds ß and ẞ to ss, as upper case spells them', () => {
    expect(foldCase('Straße')).toBe('strasse');
    expect(foldCase('STRASSE')).toBe('strasse');
    expect(foldCase('STRAẞE')).toBe('strasse');
  });

  it('folds İ and ı to i, whatever language the name was typed in', () => {
    expect(foldCase('İSTANBUL')).toBe('istanbul');
    expect(foldCase('Işık')).toBe(foldCase('IŞIK'));
    expect(foldCase('Işık')).toBe('işik');
    expect(foldCase('ışık')).toBe(foldCase('IŞIK'));
    expect(foldCase('ISIK')).not.toBe(foldCase('Işık'));
  });

  it('folds a final sigma as any other, so a word cut short still matches', () => {
    expect(foldCase('ΟΔΟΣ ΑΕ')).toContain(foldCase('οδοσ'));
    expect(foldCase('οδος')).toBe(foldCase('ΟΔΟΣ'));
  });

  it('is idempotent and ignores case: a value matches itself in any case', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const once = foldCase(s);
        expect(foldCase(once)).toBe(once);
        expect(foldCase(s.toUpperCase())).toBe(foldCase(s.toLowerCase()));
      }),
    );
  });
});

describe('nameKey', () => {
  it('ignores surrounding spaces and keeps no name as null', () => {
    expect(nameKey('  ÖKO GmbH ')).toBe('öko gmbh');
    expect(nameKey(null)).toBeNull();
  });
});
