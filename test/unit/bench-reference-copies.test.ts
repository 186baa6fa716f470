/**
 * W1's reference copies are made before its first repetition and carried on after (bench/reference.ts):
 * the daily monitor measured between two repetitions must not make the next one copy the marts again,
 * and W2, which starts every repetition from fresh copies, must never start from W1's.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceCopies, type KeptState } from '../../bench/reference.js';
import { periodAt } from '../../src/pipeline/periods.js';

const made: KeptState = {
  period: periodAt(Date.UTC(2025, 9, 1) / 1000),
  rows: new Map([['plain', { mart_uts: 10 }]]),
};

describe("the bench's W1 reference copies", () => {
  it('are kept for the next W1 repetition, across the monitor between them, but not after the last', () => {
    const copies = new ReferenceCopies<string>(3);
    expect(copies.take('postgres', 'W1')).toBeUndefined();
    expect(copies.keeps('W1', 1)).toBe(true);
    copies.keep('postgres', made);
    expect(copies.take('postgres', 'W4')).toBeUndefined();
    expect(copies.take('postgres', 'W1')).toBe(made);
    expect(copies.take('duckdb', 'W1')).toBeUndefined();
    expect(copies.keeps('W1', 3)).toBe(false);
    expect(copies.keeps('W2', 1)).toBe(false);
  });

  it('are never where W2 starts, nor where a W1 after it would', () => {
    const copies = new ReferenceCopies<string>(3);
    copies.keep('postgres', made);
    expect(copies.take('postgres', 'W2')).toBeUndefined();
    expect(copies.take('postgres', 'W1')).toBeUndefined();
  });
});
