import type { Column, Row, Value } from '../../types.js';

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/** An unsigned big-endian integer (a MySQL `bit(n)` value) as a number, or a decimal string past 2^53. */
export const unsignedBytesToValue = (bytes: Uint8Array): number | string => {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n <= maxSafe ? Number(n) : n.toString();
};

/**
 * Turns what mysql2 hands over (with `dateStrings`, `supportBigNumbers`, `jsonStrings`,
 * `decimalNumbers: false`) into a pipeline `Value`. Numbers, strings and null pass through; the
 * only objects left are Buffers (binary strings, blobs, `bit`) and parsed spatial values.
 */
export const normalizeMysqlValue = (raw: unknown, column: Column): Value => {
  if (raw === null || raw === undefined) return null;
  if (
    typeof raw === 'string' ||
    typeof raw === 'number' ||
    typeof raw === 'boolean' ||
    typeof raw === 'bigint'
  )
    return raw;
  if (raw instanceof Uint8Array) {
    if (column.type.kind === 'integer' || column.type.kind === 'bigint') return unsignedBytesToValue(raw);
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  }
  if (raw instanceof Date) return raw.toISOString();
  return JSON.stringify(raw);
};

/** Normalizes one positional row in place (rows are fresh arrays from the driver) and returns it. */
export const normalizeMysqlRow = (raw: unknown[], columns: readonly Column[]): Row => {
  for (let i = 0; i < raw.length; i++) {
    const value = raw[i];
    // Fast path: almost every value is already a string, number or null.
    if (value !== null && typeof value === 'object') raw[i] = normalizeMysqlValue(value, columns[i]!);
  }
  return raw as Row;
};
