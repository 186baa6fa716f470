import { ConfigError } from './errors.js';

/** The latest second `Date` can show (+275760-09-13): beyond it a time is printed as its number. */
const maxDateSeconds = 8_640_000_000_000;

/** Epoch seconds as `2026-05-28 20:26:40` (UTC); a value no calendar date holds, as its number. */
export const epochText = (epoch: number | bigint): string => {
  const n = Number(epoch);
  if (!Number.isFinite(n) || Math.abs(n) > maxDateSeconds) return `epoch ${String(epoch)}`;
  return new Date(n * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/(\.\d+)?Z$/, '');
};

/** The range a clock or time setting may take: the years 1970 to 9999. */
const latest = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

/**
 * A time given by a user: epoch seconds, or a UTC date `YYYY-MM-DD` with an optional
 * `HH:MM[:SS]` (`T` or a space between), between 1970 and 9999. `what` names it in the error
 * (empty: the value alone).
 */
export const parseEpoch = (raw: string, what: string): number => {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n) && n <= latest) return n;
    throw new ConfigError(`${what ? `${what} ` : ''}"${raw}" is not epoch seconds between 1970 and 9999`);
  }
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?Z?$/.exec(text);
  const parts = m?.slice(1).map((p) => Number(p ?? 0)) ?? [];
  const [y, mo, d, h, mi, s] = parts as [number, number, number, number, number, number];
  const epoch = m ? Date.UTC(y, mo - 1, d, h, mi, s) / 1000 : NaN;
  // Date.UTC rolls 2026-02-30 over into March: a date that does not round-trip does not exist.
  if (
    !m ||
    !Number.isFinite(epoch) ||
    epochText(epoch) !== `${m[1]}-${m[2]}-${m[3]} ${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}` ||
    epoch < 0
  )
    throw new ConfigError(
      `${what ? `${what} ` : ''}"${raw}" is not a time: give epoch seconds or a UTC date like 2026-05-28 or 2026-05-28 14:30:00`,
    );
  return epoch;
};
