import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createConnection, type Connection } from 'mysql2/promise';
import { parseSourceUrl } from '../../../src/config/urls.js';
import { openSource } from '../../../src/engines/source/open.js';
import type { Source } from '../../../src/engines/source/source.js';

/** The test MariaDB/MySQL server: root with an empty password, as CI provides it. */
export const mysqlServer = { host: '127.0.0.1', port: 3306, user: 'root', password: '' } as const;

/** Whether the test server answers (suites skip without it, except under CI=true where they fail). */
export const probeMysql = async (): Promise<boolean> => {
  try {
    const connection = await createConnection({ ...mysqlServer, connectTimeout: 2_000 });
    await connection.end();
    return true;
  } catch {
    return false;
  }
};

export const mysqlUp = await probeMysql();
export const runMysqlSuites = mysqlUp || process.env.CI === 'true';

/** A source engine under test: a fresh database, a writer session of its own, and the source URL. */
export interface EngineHarness {
  readonly name: string;
  /** Whether a snapshot survives a stream its consumer abandoned (MySQL ends the session instead). */
  readonly snapshotSurvivesAbandonedStream: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  open(): Promise<Source>;
  /** Runs one statement on the writer session (autocommit), values bound as parameters. */
  exec(sql: string, values?: readonly unknown[]): Promise<void>;
  /** Inserts many rows through the writer session, in chunks. */
  insertRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void>;
}

export const sqliteHarness = (): EngineHarness => {
  let dir = '';
  let path = '';
  let writer: Database.Database | undefined;
  const db = (): Database.Database => {
    if (!writer) throw new Error('sqlite harness is not set up');
    return writer;
  };
  return {
    name: 'sqlite',
    snapshotSurvivesAbandonedStream: true,
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'ot-source-'));
      path = join(dir, 'source.sqlite');
      writer = new Database(path);
      writer.pragma('journal_mode = WAL');
    },
    async teardown() {
      writer?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    open: () => openSource(parseSourceUrl(`sqlite:${path}`)),
    async exec(sql, values = []) {
      db()
        .prepare(sql)
        .run(...(values as unknown[]));
    },
    async insertRows(table, columns, rows) {
      const marks = columns.map(() => '?').join(', ');
      const insert = db().prepare(`insert into "${table}" (${columns.join(', ')}) values (${marks})`);
      db().transaction(() => {
        for (const row of rows) insert.run(...(row as unknown[]));
      })();
    },
  };
};

export const mariadbHarness = (): EngineHarness => {
  const database = `ot_test_${randomBytes(6).toString('hex')}`;
  let writer: Connection | undefined;
  const session = (): Connection => {
    if (!writer) throw new Error('mariadb harness is not set up');
    return writer;
  };
  return {
    name: 'mariadb',
    snapshotSurvivesAbandonedStream: false,
    async setup() {
      const admin = await createConnection({ ...mysqlServer, connectTimeout: 5_000 });
      try {
        await admin.query(`create database \`${database}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
      } finally {
        await admin.end();
      }
      writer = await createConnection({
        ...mysqlServer,
        database,
        charset: 'utf8mb4',
        supportBigNumbers: true,
      });
    },
    async teardown() {
      if (writer) {
        await writer.query(`drop database if exists \`${database}\``);
        await writer.end();
      }
    },
    open: () =>
      openSource(
        parseSourceUrl(`mysql://${mysqlServer.user}@${mysqlServer.host}:${mysqlServer.port}/${database}`),
      ),
    async exec(sql, values = []) {
      await session().query(sql, [...values]);
    },
    async insertRows(table, columns, rows) {
      for (let i = 0; i < rows.length; i += 5_000)
        await session().query(`insert into \`${table}\` (${columns.join(', ')}) values ?`, [
          rows.slice(i, i + 5_000),
        ]);
    },
  };
};

/** Every engine with whether its suite runs here. */
export const engines = (): { harness: EngineHarness; run: boolean }[] => [
  { harness: sqliteHarness(), run: true },
  { harness: mariadbHarness(), run: runMysqlSuites },
];
