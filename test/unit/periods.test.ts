import { describe, expect, it } from 'vitest';
import {
  parsePeriod,
  periodAt,
  periodsBetween,
  retentionCutoff,
  RETENTION_SECONDS,
} from '../../src/pipeline/periods.js';

const at = (iso: string): number => Date.parse(iso) / 1000;

describe('half-year periods (SPEC §4, UTC)', () => {
  it('puts 1 Jan and 1 Jul 00:00:00 in the period they start', () => {
    expect(periodAt(at('2026-01-01T00:00:00Z')).name).toBe('2026_h1');
    expect(periodAt(at('2025-12-31T23:59:59Z')).name).toBe('2025_h2');
    expect(periodAt(at('2026-07-01T00:00:00Z')).name).toBe('2026_h2');
    expect(periodAt(at('2026-06-30T23:59:59Z')).name).toBe('2026_h1');
  });

  it('gives each period its bounds, the end being the next start', () => {
    const p = periodAt(at('2025-09-10T12:00:00Z'));
    expect([p.start, p.end]).toEqual([at('2025-07-01T00:00:00Z'), at('2026-01-01T00:00:00Z')]);
  });

  it('lists every period overlapping a range, across years, past or future', () => {
    expect(periodsBetween(at('2024-05-01T00:00:00Z'), at('2026-01-02T00:00:00Z')).map((p) => p.name)).toEqual(
      ['2024_h1', '2024_h2', '2025_h1', '2025_h2', '2026_h1'],
    );
    expect(periodsBetween(at('2031-02-01T00:00:00Z'), at('2031-02-02T00:00:00Z')).map((p) => p.name)).toEqual(
      ['2031_h1'],
    );
    expect(periodsBetween(10, 10)).toEqual([]);
  });

  it('parses period names and rejects others', () => {
    expect(parsePeriod('2025_h2')?.start).toBe(at('2025-07-01T00:00:00Z'));
    expect(parsePeriod('2025_h3')).toBeNull();
    expect(parsePeriod('25_h1')).toBeNull();
  });
});

describe('retention cutoff', () => {
  it('is 180 days before the newest timestamp', () => {
    expect(retentionCutoff(1_000_000_000, 2_000_000_000)).toBe(1_000_000_000 - RETENTION_SECONDS);
  });

  it('never lets a future timestamp move it past the clock', () => {
    expect(retentionCutoff(2_000_000_000 + 86_400, 2_000_000_000)).toBe(2_000_000_000 - RETENTION_SECONDS);
  });

  it('is undefined for an empty mart', () => {
    expect(retentionCutoff(null, 2_000_000_000)).toBeNull();
  });
});
