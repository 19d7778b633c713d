import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextOutboxSeries, outboxKey } from '../../src/domain/lead.js';

/** Outbox keys: unique across leads, events and a deleted lead's successors under its id. */

const KINDS = ['email', 'list.subscribe', 'webhook'] as const;
const key = fc.record({
  lead: fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('A', '1', ':', '~', '.') }),
  series: fc.integer({ min: 1, max: 4 }),
  seq: fc.integer({ min: 1, max: 30 }),
  index: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom(...KINDS),
});

describe('outbox keys', () => {
  it('the first lead under an id keeps the plain key; a later one appends its number', () => {
    expect(outboxKey('D1', 1, 1, 0, 'email')).toBe('D1:1:0:email');
    expect(outboxKey('D1', 2, 1, 0, 'email')).toBe('D1:1:0:email:2');
  });

  it('two different effects never share a key, whatever characters the lead ids hold', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(outboxKey(a.lead, a.series, a.seq, a.index, a.kind)).not.toBe(
          outboxKey(b.lead, b.series, b.seq, b.index, b.kind),
        );
      }),
    );
  });

  it('the next series is past every kept key of the id, and ignores erasures and other leads', () => {
    expect(nextOutboxSeries('D1', [])).toBe(1);
    expect(nextOutboxSeries('D1', ['erase:D1:nurture'])).toBe(1);
    expect(nextOutboxSeries('D1', ['D1:1:0:email', 'D1:4:2:webhook'])).toBe(2);
    expect(nextOutboxSeries('D1', ['D1:1:0:email', 'D1:1:0:email:3', 'D1:2:0:email:2'])).toBe(4);
    // Lead "D1:1"'s rows are not under lead "D1"; were one listed, its shape still does not parse as D1's.
    expect(nextOutboxSeries('D1', ['D1:1:1:0:email:7'])).toBe(1);
  });
});
