import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../src/store/personal-data.js';

/** What an erase replaces inside free text: the person's numbers however written, their names in reasons. */

const P = 'erased-0123456789';

describe('Scrubber', () => {
  const kim = new Scrubber(P, ['kim@lee.test', 'Kim Lee', '+44 20 7946 0000']);

  it('matches a phone number on its digits, with or without spaces, dashes, dots, parentheses or its country prefix', () => {
    for (const written of [
      '+44 20 7946 0000',
      '+442079460000',
      '0044 20 7946 0000',
      '020 7946 0000',
      '(020) 7946-0000',
      '020.7946.0000',
      '+44 (0)20 7946 0000',
      '2079460000',
    ])
      expect(kim.text(`call ${written} today`), written).toBe(`call ${P} today`);
    expect(kim.text('call 020 7946 0000 / +442079460000')).toBe(`call ${P} / ${P}`);
  });

  it('leaves other numbers alone: another number, one inside a longer digit string, a short one', () => {
    for (const other of ['020 7946 0001', '12079460000123', 'order 7946', '+1 555 0100'])
      expect(kim.text(other), other).toBe(other);
  });

  it('a national number known without a country code matches with any country prefix', () => {
    const s = new Scrubber(P, ['030 1234567']);
    expect(s.text('ring +49 30 1234567 or 0301234567')).toBe(`ring ${P} or ${P}`);
  });

  it('a full name matches in any case as whole words; in reasons its parts do too', () => {
    expect(kim.text('KIM LEE said no')).toBe(`${P} said no`);
    expect(kim.text('kim   lee said no')).toBe(`${P} said no`);
    expect(kim.reason('KIM said no, lee agreed')).toBe(`${P} said no, ${P} agreed`);
    // Whole words only: a name part inside another word stays.
    expect(kim.reason('Kimberly from Leeds')).toBe('Kimberly from Leeds');
    expect(kim.json({ type: 'lead.lost', reason: 'kim went elsewhere' }, false)).toEqual({
      type: 'lead.lost',
      reason: `${P} went elsewhere`,
    });
  });

  it('a one-word name is matched as written outside reasons: the stage Demo is not the person demo', () => {
    const demo = new Scrubber(P, ['demo']);
    expect(demo.text('entered Demo')).toBe('entered Demo');
    expect(demo.text('asked for a demo')).toBe(`asked for a ${P}`);
    expect(demo.reason('DEMO said no')).toBe(`${P} said no`);
    // Parts shorter than three letters are never searched for.
    expect(new Scrubber(P, ['Li Wu']).reason('li said no to wu')).toBe('li said no to wu');
  });
});
