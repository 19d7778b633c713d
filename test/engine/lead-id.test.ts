import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { newLeadId } from '../../src/engine/lead-id.js';

describe('newLeadId', () => {
  it('is L- and a ULID carrying the given time', () => {
    const at = Date.parse('2026-11-27T10:00:00Z');
    const id = newLeadId(at);
    expect(id).toMatch(/^L-[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id.slice(2))).toBe(at);
  });

  it('increases strictly, within one millisecond and from one to the next', () => {
    const at = Date.parse('2026-11-27T11:00:00Z');
    const ids = [
      ...Array.from({ length: 1000 }, () => newLeadId(at)),
      ...Array.from({ length: 1000 }, (_, i) => newLeadId(at + 1 + i)),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('draws a fresh random part for each new millisecond', () => {
    const at = Date.parse('2026-11-27T12:00:00Z');
    const randomParts = Array.from({ length: 500 }, (_, i) => newLeadId(at + i).slice(12));
    expect(new Set(randomParts).size).toBe(randomParts.length);
    // Every Crockford character turns up somewhere: the pool's bytes map onto all 32.
    expect(new Set(randomParts.join('')).size).toBe(32);
  });
});
