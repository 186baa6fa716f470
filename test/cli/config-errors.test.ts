/**
 * Every bad configuration exits non-zero with one line naming the problem, before anything is
 * written (SPEC §8), and never prints a password (SPEC §1).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { sourceDdl } from '../../src/generator/source-ddl.js';
import { cli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ot-config-'));
const warehouse = join(dir, 'warehouse.duckdb');
const source = join(dir, 'source.sqlite');

const expectOneLine = async (args: string[], env: Record<string, string>, code: number, message: RegExp) => {
  const r = await cli(args, { ORDER_TRACKING_WAREHOUSE: `duckdb:${warehouse}`, ...env });
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^order-tracking: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/s3cr3t/);
  expect(r.code).toBe(code);
  expect(existsSync(warehouse)).toBe(false);
};

beforeAll(() => {
  const db = new Database(source);
  for (const statement of sourceDdl('sqlite')) db.exec(statement);
  db.close();
});

describe('configuration errors', () => {
  it('names an unknown warehouse scheme', () =>
    expectOneLine(
      ['init'],
      { ORDER_TRACKING_WAREHOUSE: 'oracle://u:s3cr3t@h/db' },
      2,
      /unknown scheme "oracle"/,
    ));

  it('names an unknown source scheme', () =>
    expectOneLine(
      ['init', '--source', 'mongodb://u:s3cr3t@h/db'],
      {},
      2,
      /source URL mongodb:\/\/u:\*\*\*@h\/db has an unknown scheme/,
    ));

  it('names a URL without a database', () =>
    expectOneLine(['init', '--source', 'mysql://root:s3cr3t@127.0.0.1:3306'], {}, 2, /names no database/));

  it('names a bad number', () =>
    expectOneLine(
      ['init', '--source', `sqlite:${source}`, '--batch-size', 'lots'],
      {},
      2,
      /--batch-size "lots" is not a whole number/,
    ));

  it('names a bad number from the environment', () =>
    expectOneLine(
      ['init', '--source', `sqlite:${source}`],
      { ORDER_TRACKING_BATCH_SIZE: '0' },
      2,
      /ORDER_TRACKING_BATCH_SIZE "0"/,
    ));

  it('names a bad schema name', () =>
    expectOneLine(
      ['init', '--source', `sqlite:${source}`],
      { ORDER_TRACKING_MART_SCHEMA: 'Mart-Schema' },
      2,
      /ORDER_TRACKING_MART_SCHEMA "Mart-Schema" must be lower-case/,
    ));

  it('names a bad setting in the config file', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ tables: { uni_tracking_info: { overlap: -5 } } }));
    return expectOneLine(
      ['init', '--source', `sqlite:${source}`, '--config', file],
      {},
      2,
      /config file .*bad\.json tables\.uni_tracking_info\.overlap/,
    );
  });

  it('holds numbers to one rule in the config file and the environment', async () => {
    const file = join(dir, 'exponent.json');
    writeFileSync(file, JSON.stringify({ batchSize: '1e3' }));
    await expectOneLine(
      ['init', '--source', `sqlite:${source}`, '--config', file],
      {},
      2,
      /config file .*exponent\.json batchSize: "1e3" is not a whole number between 1 and 1000000$/,
    );
    await expectOneLine(
      ['init', '--source', `sqlite:${source}`],
      { ORDER_TRACKING_BATCH_SIZE: '1e3' },
      2,
      /ORDER_TRACKING_BATCH_SIZE "1e3" is not a whole number between 1 and 1000000$/,
    );
  });

  it('names a clock no calendar holds, before anything is opened', () =>
    expectOneLine(
      ['run', '--source', `sqlite:${source}`],
      { ORDER_TRACKING_NOW: '99999999999999999999' },
      2,
      /ORDER_TRACKING_NOW "99999999999999999999" is not epoch seconds between 1970 and 9999$/,
    ));

  it('names a bad timestamp floor', () =>
    expectOneLine(
      ['init', '--source', `sqlite:${source}`],
      { ORDER_TRACKING_TIMESTAMP_FLOOR: '2000-13-01' },
      2,
      /ORDER_TRACKING_TIMESTAMP_FLOOR "2000-13-01" is not a time/,
    ));

  it('names an unknown table in the config file', () => {
    const file = join(dir, 'unknown.json');
    writeFileSync(file, JSON.stringify({ tables: { orders: { overlap: 5 } } }));
    return expectOneLine(
      ['init', '--source', `sqlite:${source}`, '--config', file],
      {},
      2,
      /config file .*unknown\.json/,
    );
  });

  it('names an unreachable MySQL host without its password', () =>
    expectOneLine(
      ['init', '--source', 'mysql://root:s3cr3t@127.0.0.1:1/test'],
      {},
      2,
      /source mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/test is unreachable/,
    ));

  it('names an unreachable PostgreSQL host without its password', async () => {
    const r = await cli(['init', '--source', `sqlite:${source}`], {
      ORDER_TRACKING_WAREHOUSE: 'postgres://u:s3cr3t@127.0.0.1:1/db',
    });
    expect(r.stderr.trim()).toMatch(
      /^order-tracking: warehouse postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db is unreachable/,
    );
    expect(r.stderr).not.toMatch(/s3cr3t/);
    expect(r.code).toBe(2);
  });

  it('names a missing SQLite source file', () =>
    expectOneLine(
      ['init', '--source', `sqlite:${join(dir, 'nope.sqlite')}`],
      {},
      2,
      /nope\.sqlite does not exist/,
    ));

  it('asks for a source when none is given', () => expectOneLine(['run'], {}, 2, /no source given/));

  it('names a missing required source table and column, all at once', async () => {
    const partial = join(dir, 'partial.sqlite');
    const db = new Database(partial);
    db.exec(
      'create table uni_tracking_info (id integer primary key, order_id varchar(64), status varchar(32))',
    );
    db.exec(
      'create table ecs_order_info (id integer primary key, order_id varchar(64), partner_id int, add_time int)',
    );
    db.close();
    await expectOneLine(
      ['init', '--source', `sqlite:${partial}`],
      {},
      3,
      /uni_tracking_info has no required column update_time; source table uni_tracking_spath does not exist/,
    );
  });

  it('tells a warehouse an older release initialized to run init, which upgrades it', async () => {
    const older = join(dir, 'older.duckdb');
    const env = { ORDER_TRACKING_WAREHOUSE: `duckdb:${older}`, ORDER_TRACKING_SOURCE: `sqlite:${source}` };
    expect((await cli(['init'], env)).code).toBe(0);
    // What a warehouse initialized before the monitor looks like: no dq_results.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(older);
    const connection = await instance.connect();
    await connection.run('drop table order_tracking_meta.dq_results');
    connection.closeSync();
    instance.closeSync();
    for (const command of [['run'], ['monitor', '--only', 'dq']]) {
      const r = await cli(command, env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        `order-tracking: warehouse duckdb:${older} was initialized by an older order-tracking (it has no order_tracking_meta.dq_results): run \`order-tracking init\` to upgrade it`,
      ]);
    }
    expect((await cli(['init'], env)).code).toBe(0);
    expect((await cli(['monitor', '--only', 'dq'], env)).code).toBe(0);
  });
});
