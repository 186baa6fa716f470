/**
 * The bench's sources (bench/source.ts): one generator written to SQLite here and to MariaDB from a
 * worker thread must leave identical rows in both, and a MariaDB failure must come back as a
 * rejected promise carrying the thread's message, with the thread ended.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSourceWriters, type SourceWriters } from '../../bench/source.js';
import { UserError } from '../../src/config/errors.js';
import {
  createGenerator,
  productionBatch,
  scaleFactorOptions,
  SOURCE_TABLES,
  SOURCE_TABLE_NAMES,
  type WriteChunk,
} from '../../src/generator/index.js';
import { MYSQL_SERVER, skipMysql } from '../support/mysql-server.js';

const END = Date.UTC(2026, 2, 1) / 1000;

const SERVER = MYSQL_SERVER;
const skip = await skipMysql();

/** SF 0.01 in 5,000-row chunks: dozens of chunks, so the queue to the thread fills and drains. */
const generator = () => createGenerator(scaleFactorOptions(0.01, END, { seed: 3, chunkRows: 5_000 }));

describe.skipIf(skip)('bench sources: SQLite here, MariaDB in a worker thread', () => {
  const suffix = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'ot-bench-source-'));
  const created: string[] = [];
  const open: SourceWriters[] = [];
  let admin: Connection;
  let n = 0;

  const url = (db: string): string => `${SERVER.replace(/\/$/, '')}/${db}`;
  /** A fresh MariaDB database and SQLite path. */
  const fresh = async (): Promise<{ db: string; sqlitePath: string }> => {
    const db = `ot_test_${suffix}_${++n}`;
    await admin.query(`create database \`${db}\` character set utf8mb4`);
    created.push(db);
    return { db, sqlitePath: join(dir, `source-${n}.sqlite`) };
  };
  const sessions = async (db: string): Promise<number[]> => {
    const [rows] = await admin.query<RowDataPacket[]>(
      'select id from information_schema.processlist where db = ? and id <> connection_id()',
      [db],
    );
    return rows.map((r) => Number(r.id));
  };

  beforeAll(async () => {
    admin = await createConnection({ uri: SERVER, charset: 'utf8mb4_unicode_ci' });
  });

  afterEach(async () => {
    for (let w = open.pop(); w !== undefined; w = open.pop()) await w.close().catch(() => undefined);
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (admin !== undefined) {
      for (const db of created) await admin.query(`drop database if exists \`${db}\``);
      await admin.end();
    }
  });

  it('writes the same rows, in the same order, to SQLite and MariaDB', async () => {
    const { db, sqlitePath } = await fresh();
    const writer = await openSourceWriters(sqlitePath, url(db));
    open.push(writer);
    const gen = generator();
    await gen.advanceTo(writer, gen.end);
    for (let i = 0; i < 3; i++) await productionBatch(gen, writer);
    // After flush, MariaDB holds every chunk applied so far: read it before close.
    await writer.flush();
    expect(gen.summary.trackingUpdates).toBeGreaterThan(0);

    const sqlite = new Database(sqlitePath, { readonly: true });
    const mysql = await createConnection({ uri: url(db), charset: 'utf8mb4_unicode_ci' });
    try {
      for (const table of SOURCE_TABLE_NAMES) {
        const columns = SOURCE_TABLES[table].columns.map((c) => c.name);
        const [mysqlRows] = await mysql.query<RowDataPacket[]>({
          sql: `select ${columns.map((c) => `\`${c}\``).join(', ')} from \`${table}\` order by id`,
          rowsAsArray: true,
        });
        const sqliteRows = sqlite
          .prepare(`select ${columns.map((c) => `"${c}"`).join(', ')} from "${table}" order by id`)
          .raw()
          .all() as unknown[][];
        expect(sqliteRows.length, table).toBe(gen.summary.inserted[table]);
        expect(mysqlRows.length, table).toBe(sqliteRows.length);
        const differs = sqliteRows.findIndex(
          (row, i) => JSON.stringify(row) !== JSON.stringify(mysqlRows[i]),
        );
        expect(
          differs === -1 ? null : { table, sqlite: sqliteRows[differs], mysql: mysqlRows[differs] },
        ).toBeNull();
      }
    } finally {
      sqlite.close();
      await mysql.end();
    }

    open.pop();
    await writer.close();
    expect(await sessions(db)).toEqual([]);
  });

  it('queues at most two chunks to the thread: apply waits, and flush waits for the commit', async () => {
    const { db, sqlitePath } = await fresh();
    const writer = await openSourceWriters(sqlitePath, url(db));
    open.push(writer);
    const chunk = (id: number): WriteChunk => ({
      fromAt: END + id,
      toAt: END + id,
      ecs_order_info: [
        {
          id,
          order_id: `o${id}`,
          partner_id: null,
          customer_name: 'c',
          destination: 'd\tx',
          weight_grams: 1,
          add_time: END + id,
        },
      ],
      uni_tracking_info: [],
      uni_tracking_spath: [],
    });
    // A session holding a write lock on the table blocks the thread's first transaction.
    const locker = await createConnection({ uri: url(db) });
    await locker.query('lock tables ecs_order_info write');
    const settled = (p: Promise<void>): Promise<boolean> =>
      Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
    try {
      await writer.apply(chunk(1));
      await writer.apply(chunk(2));
      const third = writer.apply(chunk(3));
      const flushed = writer.flush();
      expect(await settled(third)).toBe(false);
      expect(await settled(flushed)).toBe(false);
      await locker.query('unlock tables');
      await third;
      await flushed;
    } finally {
      await locker.end();
    }
    const [rows] = await admin.query<RowDataPacket[]>(
      `select id, destination from \`${db}\`.ecs_order_info order by id`,
    );
    expect(rows.map((r) => [r.id, r.destination])).toEqual([
      [1, 'd\tx'],
      [2, 'd\tx'],
      [3, 'd\tx'],
    ]);
    open.pop();
    await writer.close();
  });

  it('rejects with the thread’s message when MariaDB refuses a chunk (a duplicate id)', async () => {
    const { db, sqlitePath } = await fresh();
    const writer = await openSourceWriters(sqlitePath, url(db));
    open.push(writer);
    // The generator's first order will have id 1.
    await admin.query(
      `insert into \`${db}\`.ecs_order_info (id, order_id, add_time) values (1, 'taken', ${END})`,
    );
    const gen = generator();
    const written = (async () => {
      await gen.advanceTo(writer, gen.end);
      await writer.flush();
    })();
    const error = await written.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^writing generated rows \(at \d+\.\.\d+\) to mysql:.* failed$/);
    expect(String((error as Error).cause)).toMatch(/LOAD DATA into ecs_order_info stored \d+ of \d+ rows/);
    // The writes are incomplete: flush and close say so too, and the thread is gone.
    await expect(writer.flush()).rejects.toBe(error);
    open.pop();
    await expect(writer.close()).rejects.toBe(error);
    expect(await sessions(db)).toEqual([]);
  });

  it('rejects when the server drops the connection mid-way, and does not hang', async () => {
    const { db, sqlitePath } = await fresh();
    const writer = await openSourceWriters(sqlitePath, url(db));
    open.push(writer);
    const gen = generator();
    await gen.advanceTo(writer, gen.end - 30 * 86_400);
    await writer.flush();
    const [thread] = await sessions(db);
    expect(thread).toBeDefined();
    await admin.query(`kill ${thread}`);
    const rest = (async () => {
      await gen.advanceTo(writer, gen.end);
      await writer.flush();
    })();
    await expect(rest).rejects.toThrow(/^writing generated rows \(at \d+\.\.\d+\) to mysql:.* failed$/);
    open.pop();
    await expect(writer.close()).rejects.toThrow(/writing generated rows/);
  });

  it('refuses a MariaDB database that already holds rows, with the bench’s message', async () => {
    const { db, sqlitePath } = await fresh();
    const first = await openSourceWriters(sqlitePath, url(db));
    open.push(first);
    const gen = generator();
    await gen.advanceTo(first, gen.start + 10 * 86_400);
    open.pop();
    await first.close();

    const again = openSourceWriters(join(dir, 'other.sqlite'), url(db));
    await expect(again).rejects.toBeInstanceOf(UserError);
    await expect(again).rejects.toThrow(
      `bench: source ${url(db)} is not empty; give an empty database (the bench writes its own rows, ids from 1)`,
    );
    expect(await sessions(db)).toEqual([]);
  });

  it('reports a server that does not answer as a bench error', async () => {
    const { sqlitePath } = await fresh();
    await expect(openSourceWriters(sqlitePath, 'mysql://root@127.0.0.1:1/nowhere')).rejects.toThrow(
      /^bench: could not connect to the MySQL source mysql:\/\/root@127\.0\.0\.1:1\/nowhere/,
    );
  });
});
