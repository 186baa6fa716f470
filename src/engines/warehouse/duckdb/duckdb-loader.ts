import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Column, LogicalType, Row, Value } from '../../types.js';
import { valueCheck, type ValueCheck } from '../value-checks.js';
import { Quarantine } from '../quarantine.js';
import type { LoadResult } from '../warehouse.js';
import { duckdbLogicalType } from './duckdb-dialect.js';

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const chunkRows = 2048;

type Convert = (value: Value) => DuckDBValue;

const toBigInt: Convert = (v) => (v === null ? null : typeof v === 'bigint' ? v : BigInt(v));
const toNumber: Convert = (v) => (v === null ? null : Number(v));
const toBoolean: Convert = (v) => (v === null ? null : v === true || v === 1 || v === '1' || v === 'true');
const toText: Convert = (v) => (v === null ? null : typeof v === 'string' ? v : String(v));

/**
 * Chunk column type and converter per logical type. Decimals, dates and timestamps travel as
 * VARCHAR: the appender casts them exactly, which JS numbers and Dates would not.
 */
const plan = (type: LogicalType): [DuckDBType, Convert] => {
  switch (type.kind) {
    case 'bigint':
      return [BIGINT, toBigInt];
    case 'integer':
      return [INTEGER, toNumber];
    case 'double':
      return [DOUBLE, toNumber];
    case 'boolean':
      return [BOOLEAN, toBoolean];
    default:
      return [VARCHAR, toText];
  }
};

/** What a string holding U+FFFD says: the source's bytes were not UTF-8 and the driver replaced them. */
const replacedBytes = 'bytes that are not UTF-8, replaced with U+FFFD';

/** How one table column's values are turned into a chunk's: converted, checked first, or scanned for U+FFFD. */
interface ColumnPlan {
  readonly name: string;
  readonly type: DuckDBType;
  readonly convert: Convert;
  readonly check: ValueCheck | null;
  readonly text: boolean;
  /** Position of the column in the rows, -1 when they do not carry it. */
  readonly from: number;
}

/**
 * Appends a stream of row batches through DuckDB's appender, one data chunk at a time. The appender
 * writes every table column in table order, so columns the rows do not carry (a column the source
 * dropped) are appended as NULL. A value the column cannot hold is appended as NULL and reported
 * (SPEC §5): appended, it would fail the whole chunk with a message naming no row.
 */
export const appendRows = async (
  connection: DuckDBConnection,
  schema: string,
  table: string,
  columns: readonly Column[],
  batches: AsyncIterable<readonly Row[]>,
): Promise<LoadResult> => {
  const described = await connection.runAndReadAll(
    `select column_name, data_type from information_schema.columns
      where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, table],
  );
  const tableColumns = described
    .getRows()
    .map(([name, type]) => ({ name: String(name), type: String(type) }));
  const position = new Map(columns.map((c, i) => [c.name, i]));
  const unknown = columns.find((c) => !tableColumns.some((t) => t.name === c.name));
  if (unknown) throw new Error(`cannot load ${schema}.${table}: it has no column ${unknown.name}`);
  const plans: ColumnPlan[] = tableColumns.map((t) => {
    const logical = duckdbLogicalType(t.type);
    const [type, convert] = plan(logical);
    return {
      name: t.name,
      type,
      convert,
      check: valueCheck(logical),
      text: logical.kind === 'text' || logical.kind === 'varchar',
      from: position.get(t.name) ?? -1,
    };
  });
  const idAt = position.get('id') ?? -1;
  const idOf = (row: Row): string | null => {
    const id = idAt >= 0 ? row[idAt] : null;
    return id === null || id === undefined ? null : String(id);
  };
  const quarantine = new Quarantine(`${schema}.${table}`);
  const appender = await connection.createAppender(table, schema);
  // One chunk, reset for every 2048 rows: its native vectors are freed only when the wrapper is
  // garbage-collected, which a small JS heap rarely is, so a chunk per 2048 rows held gigabytes of
  // native memory by the end of a large initial load.
  const chunk = DuckDBDataChunk.create(plans.map((p) => p.type));
  let loaded = 0;
  try {
    for await (const batch of batches) {
      for (let offset = 0; offset < batch.length; offset += chunkRows) {
        const n = Math.min(chunkRows, batch.length - offset);
        // Rows of this chunk already reported as INVALID_UTF8: one exception per row.
        let replaced: Set<number> | undefined;
        const data = plans.map(({ name, convert, check, text, from }) => {
          const values = new Array<DuckDBValue>(n).fill(null);
          if (from < 0) return values;
          if (check !== null) {
            // A value equal to the one before is as good (the load columns repeat one per load).
            let last: Value = null;
            let lastValue: DuckDBValue = null;
            for (let i = 0; i < n; i++) {
              const row = batch[offset + i] as Row;
              const v = row[from] ?? null;
              if (v === null) continue;
              if (v === last) values[i] = lastValue;
              else {
                const reason = check(v);
                if (reason === null) {
                  last = v;
                  lastValue = values[i] = convert(v);
                } else quarantine.add({ type: 'BAD_VALUE', column: name, id: idOf(row), reason });
              }
            }
          } else if (text) {
            for (let i = 0; i < n; i++) {
              const row = batch[offset + i] as Row;
              const v = row[from] ?? null;
              if (typeof v === 'string' && v.includes('\uFFFD') && !replaced?.has(i)) {
                (replaced ??= new Set()).add(i);
                quarantine.add({ type: 'INVALID_UTF8', column: name, id: idOf(row), reason: replacedBytes });
              }
              values[i] = convert(v);
            }
          } else for (let i = 0; i < n; i++) values[i] = convert((batch[offset + i] as Row)[from] ?? null);
          return values;
        });
        chunk.reset();
        chunk.setColumns(data); // sets the chunk's row count to n
        appender.appendDataChunk(chunk);
      }
      loaded += batch.length;
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return { rows: loaded, quarantined: quarantine.values };
};
