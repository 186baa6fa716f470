/**
 * Whether a value fits the warehouse column it is loaded into (SPEC §5): the row loaders ask before
 * converting a value, so one that does not fit is stored as NULL and named instead of failing the
 * whole load. Pure; each check costs a `typeof` and a comparison on the values sources send, and a
 * regular expression only where a string lands in a numeric or date column.
 */
import { typeName, type LogicalType, type Value } from '../types.js';

/** Why `value` cannot be stored in the column, or `null` when it can. */
export type ValueCheck = (value: Exclude<Value, null>) => string | null;

/** A value as a reason shows it: strings quoted and escaped (U+0000 cannot go into the ledger), cut at 40. */
export const shown = (value: Exclude<Value, null>): string =>
  typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value);

const integerText = /^\s*[+-]?\d+\s*$/;
const floatText = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)\s*$/i;
const decimalText = /^\s*[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;
/** The date and time forms both warehouses read; a zone offset is accepted and ignored by both. */
const dateTimeText =
  /^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d*)?)?(?:Z|[+-]\d{1,2}(?::?\d{2})?)?)?\s*$/i;
const infinityText = /^\s*[+-]?infinity\s*$/i;

const INT32 = [-2_147_483_648n, 2_147_483_647n] as const;
const INT64 = [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n] as const;

const integerCheck = (kind: 'integer' | 'bigint'): ValueCheck => {
  const [min, max] = kind === 'integer' ? INT32 : INT64;
  // As numbers: the int64 bounds round to ±2^63, and only -2^63 itself is in range.
  const [low, high] = [Number(min), Number(max + 1n)];
  const outOfRange = (v: Value): string => `${shown(v as string)} is out of range for ${kind}`;
  return (v) => {
    switch (typeof v) {
      case 'number':
        // Safe integers fit a bigint; past 2^53 a number is only exact where it is an integer.
        if (Number.isInteger(v)) return v >= low && v < high ? null : outOfRange(v);
        return `${v} is not an integer`;
      case 'bigint':
        return v >= min && v <= max ? null : outOfRange(v);
      case 'string': {
        if (!integerText.test(v)) return `${shown(v)} is not an integer`;
        if (v.length < 10) return null;
        const n = BigInt(v);
        return n >= min && n <= max ? null : outOfRange(v);
      }
      default:
        return null;
    }
  };
};

const doubleCheck: ValueCheck = (v) =>
  typeof v !== 'string' || floatText.test(v) ? null : `${shown(v)} is not a number`;

/**
 * A decimal(p,s) holds the value when its integer digits, after rounding to `s` places as both
 * warehouses do, are at most p − s.
 */
const decimalCheck = (type: Extract<LogicalType, { kind: 'decimal' }>): ValueCheck => {
  const room = type.precision - type.scale;
  const name = typeName(type);
  return (v) => {
    if (typeof v === 'boolean') return null;
    const text = typeof v === 'string' ? v : String(v);
    const m = decimalText.exec(text);
    const [int, frac] = [m?.[1] ?? '', m?.[2] ?? ''];
    if (!m || (int === '' && frac === '')) return `${shown(v)} is not a ${name}`;
    const digits = int + frac;
    let lead = 0;
    while (lead < digits.length && digits[lead] === '0') lead++;
    // Where the point falls among the significant digits: their integer digits when positive.
    const point = int.length + Number(m[3] ?? 0) - lead;
    const significant = digits.slice(lead);
    if (significant === '' || point < room) return null;
    const tooWide = `${shown(v)} does not fit ${name} (${room} digit${room === 1 ? '' : 's'} before the point)`;
    if (point > room) return tooWide;
    // Exactly `room` integer digits: rounding to the scale carries into one more when all are 9s.
    const cut = point + type.scale;
    return cut < significant.length && significant[cut]! >= '5' && /^9*$/.test(significant.slice(0, cut))
      ? tooWide
      : null;
  };
};

const daysIn = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/**
 * A date's parts are a calendar day and a time of day, or why not: MySQL's zero dates
 * (`0000-00-00`, kept under a lax `sql_mode`) and days like `2024-02-30`. Year 0 is refused too:
 * PostgreSQL has none.
 */
export const invalidDate = (year: number, month: number, day: number, text: string): string | null => {
  if (year === 0 && month === 0 && day === 0) return `${text} is a zero date`;
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month))
    return `${text} is not a valid date`;
  return null;
};

const dateCheck =
  (kind: 'date' | 'timestamp'): ValueCheck =>
  (v) => {
    if (typeof v !== 'string') return `${shown(v)} is not a ${kind}`;
    const m = dateTimeText.exec(v);
    if (!m) return infinityText.test(v) ? null : `${shown(v)} is not a ${kind}`;
    const invalid = invalidDate(Number(m[1]), Number(m[2]), Number(m[3]), shown(v));
    if (invalid) return invalid;
    if (m[4] !== undefined && (Number(m[4]) > 24 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 60))
      return `${shown(v)} is not a valid time`;
    return null;
  };

/** The check of a column of `type`, or `null` where every value a source sends fits (text, boolean). */
export const valueCheck = (type: LogicalType): ValueCheck | null => {
  switch (type.kind) {
    case 'integer':
    case 'bigint':
      return integerCheck(type.kind);
    case 'double':
      return doubleCheck;
    case 'decimal':
      return decimalCheck(type);
    case 'date':
    case 'timestamp':
      return dateCheck(type.kind);
    default:
      return null;
  }
};
