import type { LogicalType } from '../../types.js';

/** One row of `PRAGMA table_info`, as `describeTable` reads it. */
export interface SqliteColumnInfo {
  /** The declared type as written in `CREATE TABLE` (may be empty). */
  readonly declaredType: string;
  /** Position in the primary key (1-based), 0 when not part of it. */
  readonly pk: number;
}

const lengthOf = (declared: string): number | null => {
  const match = /\(\s*(\d+)\s*\)/.exec(declared);
  return match ? Number(match[1]) : null;
};

/**
 * Maps a declared SQLite type onto the pipeline's logical types, in the spirit of SQLite's own
 * affinity rules but keeping what the declaration promises: any type containing `INT` → bigint
 * (INTEGER affinity stores 64-bit integers whatever the declaration says: an `INT` column holds
 * 3,000,000,000 as readily as 3); `VARCHAR(n)` → varchar(n); `DECIMAL(p,s)` → decimal; `DATETIME`
 * / `TIMESTAMP` → timestamp; `DATE` → date; REAL, FLOAT, DOUBLE → double. Anything else (TEXT,
 * CLOB, BLOB, no type, a bare NUMERIC) → text or double as noted.
 */
export const sqliteLogicalType = (info: SqliteColumnInfo): LogicalType => {
  const declared = info.declaredType.trim().toUpperCase();
  if (declared.includes('INT')) return { kind: 'bigint' };
  if (declared.includes('CHAR')) {
    const length = lengthOf(declared);
    return length === null ? { kind: 'text' } : { kind: 'varchar', length };
  }
  if (declared.includes('TEXT') || declared.includes('CLOB')) return { kind: 'text' };
  if (declared.includes('REAL') || declared.includes('FLOA') || declared.includes('DOUB'))
    return { kind: 'double' };
  const decimal = /^(DECIMAL|NUMERIC|DEC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(declared);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[2]), scale: Number(decimal[3] ?? 0) };
  if (/^(DECIMAL|NUMERIC|DEC)\b/.test(declared)) return { kind: 'double' };
  if (declared.startsWith('DATETIME') || declared.startsWith('TIMESTAMP')) return { kind: 'timestamp' };
  if (declared.startsWith('DATE')) return { kind: 'date' };
  if (declared.startsWith('BOOL')) return { kind: 'integer' };
  return { kind: 'text' };
};
