/**
 * Engine pairs for scenario suites: the same test body runs on DuckDB + SQLite and on PostgreSQL +
 * MariaDB, each test in freshly created databases that are dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { sourceDdl } from '../../src/generator/source-ddl.js';
import {
  prepareRedshiftDouble,
  startRedshiftDouble,
  type RedshiftDouble,
  type RedshiftDoubleOptions,
} from './redshift-double.js';

export type Params = readonly (string | number | null)[];
export type Rows = Record<string, unknown>[];

export interface EnginePair {
  readonly name: string;
  readonly warehouseUrl: string;
  readonly sourceUrl: string;
  /** Runs SQL on the source (`?` placeholders in both dialects). */
  source(sql: string, params?: Params): Promise<Rows>;
  /** Runs SQL on the warehouse (`$1` placeholders); opens and closes DuckDB each time (file lock). */
  warehouse(sql: string, params?: Params): Promise<Rows>;
  readonly sourceDialect: 'mysql' | 'sqlite';
  /** The Redshift test double in front of the warehouse, for the Redshift pair. */
  readonly double?: RedshiftDouble;
  close(): Promise<void>;
}

const pgAdminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const mysqlAdmin = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

const normalize = (rows: Rows): Rows =>
  rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );

export const serversUp = async (): Promise<boolean> => {
  try {
    const client = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.end();
    const conn = await mysql.createConnection({ ...mysqlAdmin, connectTimeout: 2000 });
    await conn.end();
    return true;
  } catch {
    return false;
  }
};

/** In CI the server suites are mandatory: a server that does not answer fails them, never skips. */
export const skipServers = async (): Promise<boolean> => !(await serversUp()) && process.env.CI !== 'true';

export const embeddedPair = async (): Promise<EnginePair> => {
  const dir = mkdtempSync(join(tmpdir(), 'ot-test-'));
  const sourcePath = join(dir, 'source.sqlite');
  const warehousePath = join(dir, 'warehouse.duckdb');
  const db = new Database(sourcePath);
  db.pragma('journal_mode = WAL');
  for (const statement of sourceDdl('sqlite')) db.exec(statement);
  return {
    name: 'duckdb+sqlite',
    warehouseUrl: `duckdb:${warehousePath}`,
    sourceUrl: `sqlite:${sourcePath}`,
    sourceDialect: 'sqlite',
    async source(sql, params = []) {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all(...params) as Rows;
      statement.run(...params);
      return [];
    },
    async warehouse(sql, params = []) {
      const instance = await DuckDBInstance.create(warehousePath);
      try {
        const connection = await instance.connect();
        try {
          const reader = await connection.runAndReadAll(sql, [...params]);
          return normalize(reader.getRowObjectsJS() as Rows);
        } finally {
          // The file lock is released only when the last connection of the instance closes.
          connection.closeSync();
        }
      } finally {
        instance.closeSync();
      }
    },
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * PostgreSQL + MariaDB, or with `redshift`, the same PostgreSQL database behind the Redshift test
 * double (test/support/redshift-double.ts): the warehouse URL is `redshift://…` on the double's
 * port, so the pipeline runs its Redshift engine, and `warehouse()` reads PostgreSQL directly.
 */
export const serverPair = async (
  options: { readonly redshift?: boolean; readonly s3?: RedshiftDoubleOptions['s3'] } = {},
): Promise<EnginePair> => {
  const name = `ot_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const warehouse = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${name}`, max: 2 });
  // close() drops the database WITH (FORCE): an idle pooled session being terminated is expected.
  warehouse.on('error', () => undefined);
  const root = await mysql.createConnection(mysqlAdmin);
  await root.query(`create database ${name} character set utf8mb4`);
  await root.end();
  const source = await mysql.createConnection({ ...mysqlAdmin, database: name, charset: 'utf8mb4' });
  for (const statement of sourceDdl('mysql')) await source.query(statement);
  let double: RedshiftDouble | undefined;
  if (options.redshift) {
    await prepareRedshiftDouble(`postgres://postgres@127.0.0.1:5432/${name}`);
    double = await startRedshiftDouble(options.s3 ? { s3: options.s3 } : {});
  }
  return {
    name: double ? 'redshift-double+mariadb' : 'postgres+mariadb',
    warehouseUrl: double ? double.url(name) : `postgres://postgres@127.0.0.1:5432/${name}`,
    sourceUrl: `mysql://root@127.0.0.1:3306/${name}`,
    sourceDialect: 'mysql',
    async source(sql, params = []) {
      const [rows] = await source.query(sql, [...params]);
      return Array.isArray(rows) ? (rows as Rows) : [];
    },
    async warehouse(sql, params = []) {
      const result = await warehouse.query(sql, [...params]);
      return result.rows.map((r: Record<string, unknown>) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [
            k,
            typeof v === 'string' &&
            /^-?\d+$/.test(v) &&
            v.length < 16 &&
            result.fields.find((f) => f.name === k)?.dataTypeID === 20
              ? Number(v)
              : v,
          ]),
        ),
      );
    },
    ...(double ? { double } : {}),
    async close() {
      await double?.close();
      await warehouse.end();
      await source.end();
      const a = new pg.Client({ connectionString: pgAdminUrl });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
      const r = await mysql.createConnection(mysqlAdmin);
      await r.query(`drop database if exists ${name}`);
      await r.end();
    },
  };
};

/** Both pairs, the server one marked for skipping when its servers are down outside CI. */
export const pairs = [
  { name: 'duckdb+sqlite', create: embeddedPair, skip: async () => false },
  { name: 'postgres+mariadb', create: () => serverPair(), skip: skipServers },
] as const;

/** Redshift (its test double over PostgreSQL) + MariaDB, for the suites that run on it too. */
export const redshiftPair = {
  name: 'redshift-double+mariadb',
  create: () => serverPair({ redshift: true }),
  skip: skipServers,
} as const;
