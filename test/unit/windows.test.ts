/**
 * Window maths (SPEC §3 calc_window): exact past 2^53, watermarks from what landed, strays read by
 * id, a watermark ahead of the clock refused.
 */
import { describe, expect, it } from 'vitest';
import type { CursorSpec } from '../../src/pipeline/tables.js';
import { calcWindow, nextWatermark, watermarkAhead } from '../../src/pipeline/windows.js';

const byId: CursorSpec = { column: 'id', kind: 'id', overlap: 10_000, settleSeconds: 0 };
const byTime: CursorSpec = { column: 'update_time', kind: 'time', overlap: 1800, settleSeconds: 60 };
const NOW = 1_780_000_000;
const facts = { now: NOW, floor: 946_684_800, strayOverlap: 10_000 };

describe('calcWindow', () => {
  it('carries ids past 2^53 exactly', () => {
    const big = 9_007_199_254_740_993n; // 2^53 + 1: a double rounds it to 2^53
    const w = calcWindow(byId, { value: big - 1n, strayId: null }, { ...facts, sourceMax: big });
    expect(w).toEqual({ column: 'id', from: big - 10_001n, to: big });
  });

  it('reads a time cursor up to the settle bound, and its strays above their own mark', () => {
    const w = calcWindow(byTime, { value: BigInt(NOW - 7200), strayId: 500n }, { ...facts, sourceMax: null });
    expect(w).toEqual({
      column: 'update_time',
      from: BigInt(NOW - 7200 - 1800),
      to: BigInt(NOW - 60),
      strays: { floor: 946_684_800n, idAbove: -9_500n },
    });
  });

  it('reads every stray in the first window, and a non-id id-kind cursor has no floor', () => {
    const first = calcWindow({ column: 'traceSeq', kind: 'id', overlap: 0, settleSeconds: 0 }, null, {
      ...facts,
      sourceMax: 7n,
    });
    expect(first).toEqual({ column: 'traceSeq', from: null, to: 7n, strays: { floor: null, idAbove: null } });
  });
});

describe('nextWatermark', () => {
  const range = { column: 'update_time', from: 100n, to: 1_000n };

  it('is the greatest value landed, capped at the upper bound', () => {
    expect(nextWatermark({ value: 900n, strayId: null }, range, { max: 950n, strayMax: 12n })).toEqual({
      value: 950n,
      strayId: 12n,
    });
    expect(nextWatermark(null, range, { max: 5_000n, strayMax: null })).toEqual({
      value: 1_000n,
      strayId: null,
    });
  });

  it('stays where it was when a quiet source lands nothing new, and never moves back', () => {
    expect(nextWatermark({ value: 900n, strayId: 3n }, range, { max: null, strayMax: null })).toEqual({
      value: 900n,
      strayId: 3n,
    });
    expect(nextWatermark({ value: 900n, strayId: 3n }, range, { max: 800n, strayMax: 1n })).toEqual({
      value: 900n,
      strayId: 3n,
    });
    expect(nextWatermark(null, range, { max: null, strayMax: null })).toBeNull();
  });
});

describe('watermarkAhead', () => {
  it('flags a time watermark ahead of the clock, never an id one', () => {
    expect(watermarkAhead(byTime, { value: BigInt(NOW + 1), strayId: null }, NOW)).toBe(true);
    expect(watermarkAhead(byTime, { value: BigInt(NOW - 60), strayId: null }, NOW)).toBe(false);
    expect(watermarkAhead(byId, { value: BigInt(NOW + 1), strayId: null }, NOW)).toBe(false);
  });
});
