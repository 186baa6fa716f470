/**
 * The benchmark's sources: one generator written to the embedded SQLite file and, for the server
 * run, to the given MySQL/MariaDB database too, chunk by chunk, so both engines read identical rows.
 */
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { UserError } from '../src/config/errors.js';
import { redact } from '../src/config/urls.js';
import { openMysqlWriter, openSqliteWriter, type SourceWriter } from '../src/generator/index.js';
import { SOURCE_TABLE_NAMES } from '../src/generator/source-ddl.js';

/** Opens the writers and creates the source tables; a source that already holds rows is refused. */
export const openSourceWriters = async (
  sqlitePath: string,
  mysqlUrl: string | null,
): Promise<SourceWriter> => {
  const writers: SourceWriter[] = [];
  try {
    if (mysqlUrl) writers.push(await openMysqlWriter(mysqlUrl));
    writers.push(openSqliteWriter(sqlitePath));
    for (const writer of writers) await writer.createTables();
  } catch (cause) {
    await Promise.all(writers.map((w) => w.close().catch(() => undefined)));
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new UserError(
      /already holds rows/.test(reason) && mysqlUrl
        ? `bench: source ${redact(mysqlUrl)} is not empty; give an empty database (the bench writes its own rows, ids from 1)`
        : `bench: ${reason}`,
      2,
      { cause },
    );
  }
  return {
    createTables: async () => undefined,
    apply: async (chunk) => {
      for (const writer of writers) await writer.apply(chunk);
    },
    close: async () => {
      for (const writer of writers) await writer.close();
    },
  };
};

/** `SQLite 3.x` and, for the server run, `MariaDB 10.x`: engine versions for the report. */
export const sourceVersions = async (sqlitePath: string, mysqlUrl: string | null): Promise<string[]> => {
  const db = new Database(sqlitePath, { readonly: true });
  const sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  db.close();
  const versions = [`SQLite ${sqlite}`];
  if (mysqlUrl) {
    const conn = await mysql.createConnection({ uri: mysqlUrl });
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('select version() as v');
      const v = String(rows[0]?.v ?? '');
      versions.push(/mariadb/i.test(v) ? `MariaDB ${v}` : `MySQL ${v}`);
    } finally {
      await conn.end();
    }
  }
  return versions;
};

/**
 * Drops the source tables the bench itself wrote for the previous SF of the same invocation (a
 * source that already holds rows is otherwise refused, rightly, at the first SF).
 */
export const dropSourceTables = async (mysqlUrl: string): Promise<void> => {
  const conn = await mysql.createConnection({ uri: mysqlUrl });
  try {
    for (const table of SOURCE_TABLE_NAMES) await conn.query(`drop table if exists \`${table}\``);
  } finally {
    await conn.end();
  }
};
