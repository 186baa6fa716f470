import Database from 'better-sqlite3';
import type { ScanRow, TrackingRow, OrderRow, WriteChunk } from '../rows.js';
import {
  SOURCE_TABLE_NAMES,
  SOURCE_TABLES,
  type SourceTableName,
  quoteIdentifier,
  sourceDdl,
} from '../source-ddl.js';
import type { SourceWriter } from './source-writer.js';

type Row = OrderRow | TrackingRow | ScanRow;
type Value = string | number | null;

/** Rows per multi-row INSERT: fewer statement executions, well under SQLite's 32,766 parameters. */
const ROWS_PER_STATEMENT = 200;

const q = (name: string): string => quoteIdentifier('sqlite', name);

function insertSql(table: SourceTableName, rows: number): string {
  const { columns } = SOURCE_TABLES[table];
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  let sql = `insert into ${q(table)} (${columns.map((c) => q(c.name)).join(', ')}) values ${Array(rows).fill(tuple).join(', ')}`;
  if (table === 'uni_tracking_info') {
    // Tracking rows are updated in place: an upsert writes new rows and updates alike.
    const set = columns.filter((c) => c.name !== 'id').map((c) => `${q(c.name)} = excluded.${q(c.name)}`);
    sql += ` on conflict (${q('id')}) do update set ${set.join(', ')}`;
  }
  return sql;
}

/**
 * Writes the source to a SQLite file (created if missing), in WAL mode, one transaction per chunk,
 * multi-row INSERTs of 200 rows (`insert … on conflict (id) do update` for uni_tracking_info).
 */
export function openSqliteWriter(file: string): SourceWriter {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // The source is synthetic and can be regenerated from its seed: trade crash durability for speed.
  // WAL still lets the pipeline read committed chunks while the generator writes.
  db.pragma('synchronous = OFF');

  const statements = new Map<SourceTableName, { many: Database.Statement; one: Database.Statement }>();
  const prepared = (table: SourceTableName) => {
    let s = statements.get(table);
    if (s === undefined) {
      s = { many: db.prepare(insertSql(table, ROWS_PER_STATEMENT)), one: db.prepare(insertSql(table, 1)) };
      statements.set(table, s);
    }
    return s;
  };

  const write = (table: SourceTableName, rows: readonly Row[]): void => {
    if (rows.length === 0) return;
    const names = SOURCE_TABLES[table].columns.map((c) => c.name as keyof Row);
    const { many, one } = prepared(table);
    const width = names.length;
    const params: Value[] = new Array<Value>(ROWS_PER_STATEMENT * width);
    let i = 0;
    for (; i + ROWS_PER_STATEMENT <= rows.length; i += ROWS_PER_STATEMENT) {
      let p = 0;
      for (let r = i; r < i + ROWS_PER_STATEMENT; r++) {
        const row = rows[r] as Row;
        for (let c = 0; c < width; c++) params[p++] = row[names[c] as keyof Row] as Value;
      }
      many.run(params);
    }
    for (; i < rows.length; i++) {
      const row = rows[i] as Row;
      one.run(names.map((n) => row[n] as Value));
    }
  };

  const applyChunk = db.transaction((chunk: WriteChunk) => {
    for (const table of SOURCE_TABLE_NAMES) write(table, chunk[table]);
  });

  return {
    createTables: () =>
      settle(() => {
        try {
          db.transaction(() => {
            for (const statement of sourceDdl('sqlite')) db.exec(statement);
          })();
        } catch (cause) {
          throw new Error(`could not create the source tables in SQLite file ${file}`, { cause });
        }
        for (const table of SOURCE_TABLE_NAMES) {
          if (db.prepare(`select 1 from ${q(table)} limit 1`).get() !== undefined) {
            throw new Error(
              `source table ${table} in ${file} already holds rows and generated ids start at 1: ` +
                'use a new file or delete this one first',
            );
          }
        }
      }),
    apply: (chunk) =>
      settle(() => {
        try {
          applyChunk(chunk);
        } catch (cause) {
          throw new Error(
            `writing generated rows (at ${chunk.fromAt}..${chunk.toAt}) to SQLite file ${file} failed`,
            { cause },
          );
        }
      }),
    close: () => settle(() => db.close()),
  };
}

/** Runs synchronous work and reports its outcome as a promise. */
function settle(work: () => unknown): Promise<void> {
  try {
    work();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
