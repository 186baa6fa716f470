import pg from 'pg';

/** Type oids whose default `pg` parsing would not give a `Value` (see `src/engines/types.ts`). */
const oid = {
  int8: 20,
  json: 114,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  jsonb: 3802,
} as const;

/** `bigint` (and counts): a JS number while it is exact, else the decimal string. */
export const parseInt8 = (text: string): number | string => {
  const n = Number(text);
  // `isSafeInteger` (|v| ≤ 2^53 − 1) rather than ≤ 2^53: 2^53 + 1 would round to 2^53 and pass.
  return Number.isSafeInteger(n) ? n : text;
};

/**
 * `numeric`: integral values that are exact as JS numbers (`sum(bigint)`, `numeric(p,0)`) become
 * numbers; anything with a fraction stays the exact string PostgreSQL printed (`'12.50'`).
 */
export const parseNumeric = (text: string): number | string =>
  /^-?\d+$/.test(text) ? parseInt8(text) : text;

const timestampText = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;

/**
 * `timestamp` as ISO-8601 UTC with milliseconds (`2024-01-02T03:04:05.123Z`), the form the DuckDB
 * warehouse returns, so scenarios compare equal across engines. Sessions run in UTC (see
 * `postgres-warehouse.ts`). Values outside ISO's range (`infinity`, BC) stay as printed.
 */
export const parseTimestamp = (text: string): string => {
  const m = timestampText.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, fraction = ''] = m;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.${fraction.padEnd(3, '0').slice(0, 3)}Z`;
};

/** `timestamptz` as ISO-8601 UTC with milliseconds, whatever the session's zone. */
export const parseTimestamptz = (text: string): string => {
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
};

const asText = (text: string): string => text;

/**
 * Per-pool parsers (never `pg.types.setTypeParser`, which would change every pool in the process):
 * results carry only `Value`s. Dates stay `YYYY-MM-DD`; json and intervals stay as printed.
 */
export const createTypeParsers = (): pg.CustomTypesConfig => {
  const types = new pg.TypeOverrides();
  types.setTypeParser(oid.int8, 'text', parseInt8);
  types.setTypeParser(oid.numeric, 'text', parseNumeric);
  types.setTypeParser(oid.date, 'text', asText);
  types.setTypeParser(oid.timestamp, 'text', parseTimestamp);
  types.setTypeParser(oid.timestamptz, 'text', parseTimestamptz);
  types.setTypeParser(oid.interval, 'text', asText);
  types.setTypeParser(oid.json, 'text', asText);
  types.setTypeParser(oid.jsonb, 'text', asText);
  return types;
};
