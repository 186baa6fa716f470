import { Readable } from 'node:stream';
import { createConnection, type Connection, type ResultSetHeader } from 'mysql2/promise';
import type { OrderRow, ScanRow, TrackingRow, WriteChunk } from '../rows.js';
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

/**
 * Rows per multi-row INSERT: ~2,000 rows of ~200 bytes stay far below the 16 MB default
 * `max_allowed_packet` while amortising the round trip.
 */
const ROWS_PER_STATEMENT = 2_000;

const q = (name: string): string => quoteIdentifier('mysql', name);

function insertSql(table: SourceTableName): string {
  const { columns } = SOURCE_TABLES[table];
  // `values ?` with an array of row arrays: mysql2 expands and escapes every value.
  let sql = `insert into ${q(table)} (${columns.map((c) => q(c.name)).join(', ')}) values ?`;
  if (table === 'uni_tracking_info') {
    // Tracking rows are updated in place. VALUES() works on MariaDB and MySQL (deprecated on 8.0.20+
    // but still supported; the `AS new` alias does not exist on MariaDB).
    const set = columns.filter((c) => c.name !== 'id').map((c) => `${q(c.name)} = values(${q(c.name)})`);
    sql += ` on duplicate key update ${set.join(', ')}`;
  }
  return sql;
}

/**
 * `LOAD DATA LOCAL INFILE` for insert-only tables: tab-separated, backslash escapes, `\N` for NULL.
 * The rows are streamed from memory through mysql2's `infileStreamFactory`; no file is read.
 */
function loadDataSql(table: SourceTableName): string {
  const columns = SOURCE_TABLES[table].columns.map((c) => q(c.name)).join(', ');
  return (
    `load data local infile 'generated.tsv' into table ${q(table)} character set utf8mb4 ` +
    `fields terminated by '\\t' escaped by '\\\\' lines terminated by '\\n' (${columns})`
  );
}

const TSV_SPECIAL = /[\\\t\n\r\0]/g;
const TSV_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
};

function tsvField(value: Value): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return value.replace(TSV_SPECIAL, (ch) => TSV_ESCAPES[ch] ?? ch);
}

/** The URL with its password masked, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export interface MysqlWriterOptions {
  /**
   * Insert new rows of ecs_order_info and uni_tracking_spath with `LOAD DATA LOCAL INFILE` (about
   * twice as fast as INSERT). Default: when the server allows it (`@@local_infile = 1`; MariaDB's
   * default, off by default on MySQL 8). uni_tracking_info always uses INSERT … ON DUPLICATE KEY.
   */
  readonly loadData?: boolean;
}

/**
 * Writes the source to MySQL/MariaDB (`mysql://user:pass@host:port/db`), one transaction per
 * chunk: multi-row INSERTs of up to 2,000 rows, or `LOAD DATA LOCAL INFILE` for insert-only tables.
 */
export async function openMysqlWriter(url: string, options: MysqlWriterOptions = {}): Promise<SourceWriter> {
  let conn: Connection;
  let loadData: boolean;
  try {
    conn = await createConnection({
      uri: url,
      charset: 'utf8mb4_unicode_ci',
      flags: ['+LOCAL_FILES'],
    });
    const [rows] = await conn.query('select @@local_infile as enabled');
    const enabled = Array.isArray(rows) && Number((rows[0] as { enabled?: unknown }).enabled) === 1;
    loadData = options.loadData ?? enabled;
  } catch (cause) {
    throw new Error(
      `could not connect to the MySQL source ${redact(url)}: check host, port and credentials`,
      { cause },
    );
  }
  const insert = new Map(SOURCE_TABLE_NAMES.map((t) => [t, insertSql(t)] as const));
  const load = new Map(SOURCE_TABLE_NAMES.map((t) => [t, loadDataSql(t)] as const));

  const insertRows = async (table: SourceTableName, rows: readonly Row[]): Promise<void> => {
    const names = SOURCE_TABLES[table].columns.map((c) => c.name as keyof Row);
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const values: Value[][] = [];
      const stop = Math.min(rows.length, i + ROWS_PER_STATEMENT);
      for (let r = i; r < stop; r++) {
        const row = rows[r] as Row;
        values.push(names.map((n) => row[n] as Value));
      }
      await conn.query(insert.get(table) as string, [values]);
    }
  };

  const loadRows = async (table: SourceTableName, rows: readonly Row[]): Promise<void> => {
    const names = SOURCE_TABLES[table].columns.map((c) => c.name as keyof Row);
    const lines: string[] = [];
    for (const row of rows) lines.push(names.map((n) => tsvField(row[n] as Value)).join('\t'));
    const body = Buffer.from(lines.join('\n') + '\n', 'utf8');
    const [result] = await conn.query<ResultSetHeader>({
      sql: load.get(table) as string,
      infileStreamFactory: () => Readable.from([body]),
    });
    // LOCAL loads turn errors (duplicate keys, over-long values) into warnings: make them errors.
    if (result.affectedRows !== rows.length || result.warningStatus > 0) {
      const [warnings] = await conn.query('show warnings limit 5');
      throw new Error(
        `LOAD DATA into ${table} stored ${result.affectedRows} of ${rows.length} rows with ` +
          `${result.warningStatus} warnings: ${JSON.stringify(warnings)}`,
      );
    }
  };

  const write = (table: SourceTableName, rows: readonly Row[]): Promise<void> => {
    if (rows.length === 0) return Promise.resolve();
    return loadData && table !== 'uni_tracking_info' ? loadRows(table, rows) : insertRows(table, rows);
  };

  return {
    async createTables() {
      try {
        for (const statement of sourceDdl('mysql')) await conn.query(statement);
      } catch (cause) {
        throw new Error(`could not create the source tables in ${redact(url)}`, { cause });
      }
      for (const table of SOURCE_TABLE_NAMES) {
        const [rows] = await conn.query(`select 1 from ${q(table)} limit 1`);
        if (Array.isArray(rows) && rows.length > 0) {
          throw new Error(
            `source table ${table} in ${redact(url)} already holds rows and generated ids start at 1: ` +
              'use an empty database or drop the tables first',
          );
        }
      }
    },
    async apply(chunk: WriteChunk) {
      try {
        await conn.beginTransaction();
        for (const table of SOURCE_TABLE_NAMES) await write(table, chunk[table]);
        await conn.commit();
      } catch (cause) {
        await conn.rollback().catch(() => undefined);
        throw new Error(
          `writing generated rows (at ${chunk.fromAt}..${chunk.toAt}) to ${redact(url)} failed`,
          { cause },
        );
      }
    },
    async close() {
      await conn.end();
    },
  };
}
