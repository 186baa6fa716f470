import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGenerator,
  type GeneratorOptions,
  openMysqlWriter,
  openSqliteWriter,
  SOURCE_TABLES,
  SOURCE_TABLE_NAMES,
  type SourceWriter,
} from '../../src/generator/index.js';
import { JAN_2025 } from './recording-writer.js';
import { MYSQL_SERVER, skipMysql } from '../support/mysql-server.js';

const SERVER = MYSQL_SERVER;
const skip = await skipMysql();

const options: GeneratorOptions = { seed: 11, start: JAN_2025, days: 60, ordersPerDay: 40 };

async function generate(writer: SourceWriter): Promise<number> {
  await writer.createTables();
  const gen = createGenerator({ ...options, chunkRows: 7_000 });
  const started = performance.now();
  await gen.advanceTo(writer, gen.end + 10 * 86_400);
  const seconds = (performance.now() - started) / 1000;
  await writer.close();
  const s = gen.summary;
  const writes =
    s.inserted.ecs_order_info +
    s.inserted.uni_tracking_info +
    s.inserted.uni_tracking_spath +
    s.trackingUpdates;
  return writes / seconds;
}

describe.skipIf(skip)('generator → MariaDB', () => {
  const suffix = randomBytes(4).toString('hex');
  const databases = [`ot_test_${suffix}_load`, `ot_test_${suffix}_insert`];
  const dir = mkdtempSync(join(tmpdir(), 'ot-generator-'));
  let admin: Connection;
  let sqlite: Database.Database;

  const url = (db: string): string => `${SERVER.replace(/\/$/, '')}/${db}`;

  beforeAll(async () => {
    admin = await createConnection({ uri: SERVER, charset: 'utf8mb4_unicode_ci' });
    for (const db of databases) await admin.query(`create database \`${db}\``);
    const loadRate = await generate(await openMysqlWriter(url(databases[0]!)));
    const insertRate = await generate(await openMysqlWriter(url(databases[1]!), { loadData: false }));
    console.log(
      `generator → MariaDB: ${Math.round(loadRate).toLocaleString()} writes/s with LOAD DATA, ` +
        `${Math.round(insertRate).toLocaleString()} writes/s with multi-row INSERT`,
    );
    const file = join(dir, 'source.sqlite');
    await generate(openSqliteWriter(file));
    sqlite = new Database(file, { readonly: true });
  }, 60_000);

  afterAll(async () => {
    sqlite?.close();
    rmSync(dir, { recursive: true, force: true });
    if (admin !== undefined) {
      for (const db of databases) await admin.query(`drop database if exists \`${db}\``);
      await admin.end();
    }
  });

  it('stores exactly the rows SQLite gets, through LOAD DATA and through INSERT', async () => {
    for (const table of SOURCE_TABLE_NAMES) {
      const names = SOURCE_TABLES[table].columns.map((c) => c.name);
      const expected = sqlite.prepare(`select * from ${table} order by id`).all();
      expect(expected.length).toBeGreaterThan(table === 'uni_tracking_spath' ? 50_000 : 1_000);
      for (const db of databases) {
        const [rows] = await admin.query<RowDataPacket[]>(
          `select ${names.map((n) => `\`${n}\``).join(', ')} from \`${db}\`.\`${table}\` order by id`,
        );
        expect(
          rows.map((r) => ({ ...r })),
          `${db}.${table}`,
        ).toEqual(expected);
      }
    }
  });

  it('creates InnoDB utf8mb4 tables with the declared types and the update_time index', async () => {
    const db = databases[0]!;
    const [tables] = await admin.query<RowDataPacket[]>(
      'select table_name, engine, table_collation from information_schema.tables where table_schema = ?',
      [db],
    );
    expect(tables).toHaveLength(3);
    for (const t of tables) {
      expect(t.engine).toBe('InnoDB');
      expect(String(t.table_collation)).toMatch(/^utf8mb4/);
    }
    for (const table of SOURCE_TABLE_NAMES) {
      const [columns] = await admin.query<RowDataPacket[]>(
        `select column_name, data_type, character_maximum_length len, is_nullable, extra
         from information_schema.columns where table_schema = ? and table_name = ?
         order by ordinal_position`,
        [db, table],
      );
      expect(columns.map((c) => c.column_name)).toEqual(SOURCE_TABLES[table].columns.map((c) => c.name));
      for (const [i, declared] of SOURCE_TABLES[table].columns.entries()) {
        const actual = columns[i]!;
        const [type, length] = declared.type.toLowerCase().split(/[()]/);
        expect(actual.data_type).toBe(type);
        if (length) expect(Number(actual.len)).toBe(Number(length));
        expect(actual.is_nullable).toBe(declared.nullable ? 'YES' : 'NO');
      }
      expect(columns[0]!.extra).toBe('auto_increment');
    }
    const [indexes] = await admin.query<RowDataPacket[]>(
      `select column_name from information_schema.statistics
       where table_schema = ? and table_name = 'uni_tracking_info' and index_name <> 'PRIMARY'`,
      [db],
    );
    expect(indexes.map((i) => i.column_name)).toEqual(['update_time']);
  });

  it('refuses to write into a source that already holds rows', async () => {
    const writer = await openMysqlWriter(url(databases[0]!));
    await expect(writer.createTables()).rejects.toThrow(/already holds rows/);
    await writer.close();
  });

  it('names the server without its password when it cannot connect', async () => {
    await expect(openMysqlWriter('mysql://root:secret@127.0.0.1:1/x')).rejects.toThrow(
      /mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/x/,
    );
  });
});
