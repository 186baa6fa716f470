/**
 * Half-year archive periods and retention cutoffs (SPEC §4), all pure and in UTC:
 * h1 = [1 Jan, 1 Jul), h2 = [1 Jul, 1 Jan).
 */

/** 180 days: the marts' rolling window (SPEC §4). */
export const RETENTION_SECONDS = 15_552_000;

/** A row more than this far in the future is kept out of the marts (SPEC §5). */
export const FUTURE_TOLERANCE_SECONDS = 86_400;

export interface Period {
  readonly year: number;
  readonly half: 1 | 2;
  /** `2025_h2`: the hist table suffix and the name used in configuration. */
  readonly name: string;
  /** First second of the period (inclusive), epoch seconds. */
  readonly start: number;
  /** First second of the next period (exclusive). */
  readonly end: number;
}

const periodOf = (year: number, half: 1 | 2): Period => ({
  year,
  half,
  name: `${year}_h${half}`,
  start: Date.UTC(year, half === 1 ? 0 : 6, 1) / 1000,
  end: half === 1 ? Date.UTC(year, 6, 1) / 1000 : Date.UTC(year + 1, 0, 1) / 1000,
});

/** The period an epoch-seconds timestamp falls in. */
export const periodAt = (epoch: number): Period => {
  const date = new Date(epoch * 1000);
  return periodOf(date.getUTCFullYear(), date.getUTCMonth() < 6 ? 1 : 2);
};

export const nextPeriod = (p: Period): Period =>
  p.half === 1 ? periodOf(p.year, 2) : periodOf(p.year + 1, 1);

/** Every period that overlaps `[from, to)`, oldest first. */
export const periodsBetween = (from: number, to: number): Period[] => {
  const periods: Period[] = [];
  if (to <= from) return periods;
  for (let p = periodAt(from); p.start < to; p = nextPeriod(p)) periods.push(p);
  return periods;
};

/** Parses `2025_h2`; `null` when it is not a period name. */
export const parsePeriod = (name: string): Period | null => {
  const match = /^(\d{4})_h([12])$/.exec(name);
  return match ? periodOf(Number(match[1]), Number(match[2]) as 1 | 2) : null;
};

/**
 * SPEC §4: `min(max(ts) in the mart, now) − 180 days`. A timestamp in the future never moves the
 * cutoff; an empty mart has no cutoff (`null`).
 */
export const retentionCutoff = (maxTs: number | null, now: number): number | null =>
  maxTs === null ? null : Math.min(maxTs, now) - RETENTION_SECONDS;
