import type { Column, Row, Value } from '../../types.js';

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
const minSafe = BigInt(Number.MIN_SAFE_INTEGER);

const decimalText = (value: number, scale: number): string =>
  Math.abs(value) < 1e15 ? value.toFixed(scale) : String(value);

/**
 * Turns what better-sqlite3 hands over (with `safeIntegers`: every integer a bigint) into a
 * pipeline `Value` that matches the MySQL source: integers as numbers or, past 2^53, decimal
 * strings; decimals as strings; blobs as hex. SQLite is dynamically typed, so a value that does
 * not fit its column's declared type passes through as it is stored.
 */
export const normalizeSqliteValue = (raw: unknown, column: Column): Value => {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'bigint') {
    if (column.type.kind === 'decimal') return raw.toString();
    return raw >= minSafe && raw <= maxSafe ? Number(raw) : raw.toString();
  }
  if (typeof raw === 'number')
    return column.type.kind === 'decimal' ? decimalText(raw, column.type.scale) : raw;
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  return String(raw);
};

/** Normalizes one positional row in place (rows are fresh arrays from the driver) and returns it. */
export const normalizeSqliteRow = (raw: unknown[], columns: readonly Column[]): Row => {
  for (let i = 0; i < raw.length; i++) {
    const value = raw[i];
    if (value !== null && typeof value !== 'string') raw[i] = normalizeSqliteValue(value, columns[i]!);
  }
  return raw as Row;
};

/**
 * An integer column's value as read with `safeIntegers`, exact; `undefined` when it holds no
 * integer (SQLite is dynamically typed: a REAL or TEXT value can sit in an INTEGER column).
 */
export const sqliteInteger = (value: unknown): bigint | null | undefined => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.floor(value));
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  return undefined;
};
