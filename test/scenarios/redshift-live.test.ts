/**
 * The Redshift engine against a real cluster, for whoever has one: runs only when
 * `ORDER_TRACKING_REDSHIFT_TEST_URL` names a scratch database (`redshift://user:pass@host:5439/db`;
 * the suite creates and drops the schemas settlement_public, settlement_ods and order_tracking_meta
 * there). With `ORDER_TRACKING_REDSHIFT_TEST_S3` (`bucket/prefix@region`, and
 * `ORDER_TRACKING_REDSHIFT_TEST_IAM_ROLE` or AWS keys in the environment) it loads through S3 and
 * COPY, else through multi-row INSERTs. What it adds to the test double: Redshift's own parser and
 * planner on every statement, real serializable isolation between the parallel marts, IDENTITY and
 * VARCHAR bytes as Redshift enforces them, COPY and stl_load_errors, VACUUM's real rules.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverUrl } from '../../src/engines/warehouse/redshift/redshift-warehouse.js';
import { cli } from '../support/cli.js';
import { embeddedPair, type EnginePair } from '../support/engines.js';
import { openFeed } from '../support/feed.js';
import { checkInvariants } from '../support/invariants.js';

const url = process.env.ORDER_TRACKING_REDSHIFT_TEST_URL;
const s3 = /^([^/]+)\/(.*)@([a-z0-9-]+)$/.exec(process.env.ORDER_TRACKING_REDSHIFT_TEST_S3 ?? '');
const SCHEMAS = ['settlement_public', 'settlement_ods', 'order_tracking_meta'];
const utc = (year: number, month: number, day: number, hour = 0): number =>
  Date.UTC(year, month, day, hour) / 1000;
const START = utc(2025, 0, 1);
const FIRST = utc(2025, 8, 1, 6);

describe.skipIf(!url)('the Redshift engine on a live cluster (ORDER_TRACKING_REDSHIFT_TEST_URL)', () => {
  let p: EnginePair;
  let db: pg.Pool;
  let dir: string;
  let env: Record<string, string>;
  const dropSchemas = async () => {
    for (const schema of SCHEMAS) await db.query(`drop schema if exists ${schema} cascade`);
  };

  beforeAll(async () => {
    const embedded = await embeddedPair();
    db = new pg.Pool({ connectionString: driverUrl(url ?? ''), max: 1 });
    await dropSchemas();
    // The SQLite source of the embedded pair, the cluster as warehouse.
    p = {
      ...embedded,
      name: 'redshift+sqlite',
      warehouseUrl: url ?? '',
      // bigint columns as numbers where exact, as the other pairs return them.
      warehouse: async (sql, params = []) => {
        const result = await db.query(sql, [...params]);
        const int8 = new Set(result.fields.filter((f) => f.dataTypeID === 20).map((f) => f.name));
        return result.rows.map((r: Record<string, unknown>) =>
          Object.fromEntries(
            Object.entries(r).map(([k, v]) => [
              k,
              int8.has(k) && typeof v === 'string' && v.length < 16 ? Number(v) : v,
            ]),
          ),
        );
      },
    };
    dir = mkdtempSync(join(tmpdir(), 'ot-redshift-live-'));
    const config = join(dir, 'order-tracking.json');
    writeFileSync(
      config,
      JSON.stringify(
        s3
          ? {
              redshift: {
                s3: {
                  bucket: s3[1],
                  prefix: s3[2],
                  region: s3[3],
                  ...(process.env.ORDER_TRACKING_REDSHIFT_TEST_IAM_ROLE
                    ? { iamRole: process.env.ORDER_TRACKING_REDSHIFT_TEST_IAM_ROLE }
                    : {}),
                },
              },
            }
          : {},
      ),
    );
    env = {
      ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
      ORDER_TRACKING_SOURCE: p.sourceUrl,
      ORDER_TRACKING_CONFIG: config,
    };
    const feed = await openFeed(p, {
      seed: 7,
      start: START,
      days: 240,
      ordersPerDay: 6,
      scansPerUpdate: 1.5,
    });
    await feed.advanceTo(FIRST + 900);
    await feed.close();
  }, 600_000);

  afterAll(async () => {
    await dropSchemas();
    await db.end();
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('initialises, runs an initial load and a 15-minute cycle, and keeps every row in one home', async () => {
    for (const [args, now] of [
      [['init'], FIRST],
      [['run'], FIRST + 120],
      [['run'], FIRST + 1020],
    ] as const) {
      const r = await cli([...args], { ...env, ORDER_TRACKING_NOW: String(now) }, { deadlineMs: 900_000 });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(await checkInvariants(p, FIRST + 1020)).toEqual([]);
  }, 1_800_000);

  it('runs the daily monitor, VACUUM included, and reads status and exceptions', async () => {
    const monitor = await cli(
      ['monitor', '--json'],
      { ...env, ORDER_TRACKING_NOW: String(FIRST + 3600) },
      {
        deadlineMs: 900_000,
      },
    );
    expect(monitor.code, monitor.stderr).toBe(0);
    expect((JSON.parse(monitor.stdout) as { state: string }).state).toBe('success');
    for (const args of [['status'], ['exceptions', 'list']]) {
      const r = await cli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 1_800_000);
});
