/**
 * The Redshift engine end to end, through the real CLI against the Redshift test double (a
 * PostgreSQL 15 behind a proxy that refuses what Redshift would) with a MariaDB source: every
 * command, the retry on a serializable isolation violation, the seed's maintenance rules, both load
 * paths (multi-row INSERTs, S3 staging and COPY from a local S3 server), and the offline plan.
 * The lifecycle suite runs on this pair as well (test/scenarios/lifecycle.test.ts).
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { redshiftPair, serverPair, type EnginePair } from '../support/engines.js';
import { openFeed } from '../support/feed.js';
import { checkInvariants } from '../support/invariants.js';
import type { RedshiftDouble } from '../support/redshift-double.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

const utc = (year: number, month: number, day: number, hour = 0): number =>
  Date.UTC(year, month, day, hour) / 1000;
const START = utc(2025, 0, 1);
/** 1 Sep 2025, a Monday: the cutoff is in March 2025, so the first run archives into 2025_h1. */
const FIRST = utc(2025, 8, 1, 6);
const SUNDAY = utc(2025, 8, 7, 2);
const ODS = 'settlement_ods';
const RAW = 'settlement_public';
const BUCKET = 'ot-staging';

interface MonitorJson {
  readonly state: string;
  readonly steps: {
    step: string;
    state: string;
    details: { steps?: { sql: string; table: string | null; reason: string }[] };
  }[];
}

describe.skipIf(await redshiftPair.skip())('the Redshift engine on its test double + MariaDB', () => {
  let p: EnginePair | undefined;
  let s3: S3Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await p?.close();
    await s3?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    [p, s3, dir] = [undefined, undefined, undefined];
  });

  const env = (pair: EnginePair, extra: Record<string, string> = {}) => ({
    ORDER_TRACKING_WAREHOUSE: pair.warehouseUrl,
    ORDER_TRACKING_SOURCE: pair.sourceUrl,
    ...extra,
  });
  const double = (pair: EnginePair): RedshiftDouble => {
    if (!pair.double) throw new Error('not a Redshift pair');
    return pair.double;
  };
  /** A config file for this test (`redshift` settings), named by ORDER_TRACKING_CONFIG. */
  const config = (settings: object): string => {
    dir ??= mkdtempSync(join(tmpdir(), 'ot-redshift-'));
    const path = join(dir, 'order-tracking.json');
    writeFileSync(path, JSON.stringify(settings));
    return path;
  };
  /** Four months of traffic up to FIRST, then `init`. */
  const seeded = async (pair: EnginePair, extra: Record<string, string> = {}): Promise<void> => {
    const feed = await openFeed(pair, {
      seed: 20,
      start: START,
      days: 240,
      ordersPerDay: 6,
      scansPerUpdate: 1.5,
    });
    await feed.advanceTo(FIRST);
    await feed.close();
    const init = await cli(['init'], env(pair, extra));
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
  };
  const run = async (pair: EnginePair, now: number, extra: Record<string, string> = {}) => {
    const r = await cli(['run'], env(pair, { ORDER_TRACKING_NOW: String(now), ...extra }));
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  it('runs init, run, status, exceptions, sql and monitor, and sends nothing Redshift would refuse', async () => {
    p = await redshiftPair.create();
    await seeded(p);
    await run(p, FIRST + 120);
    expect(await checkInvariants(p, FIRST + 120)).toEqual([]);

    const status = await cli(['status', '--json'], env(p));
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { tables: { marts: { table: string; rows: number }[] } };
    const [uti] = await p.warehouse(`select count(*) as n from ${ODS}.mart_uni_tracking_info`);
    expect(report.tables.marts.find((t) => t.table === 'mart_uni_tracking_info')?.rows).toBe(Number(uti?.n));
    expect(Number(uti?.n)).toBeGreaterThan(0);

    const exceptions = await cli(['exceptions', 'list'], env(p));
    expect(exceptions.code, exceptions.stderr).toBe(0);
    const sql = await cli(
      ['sql', 'mart_uts', '--connect'],
      env(p, { ORDER_TRACKING_NOW: String(FIRST + 900) }),
    );
    expect(sql.code, sql.stderr).toBe(0);
    expect(sql.stdout).toMatch(/^lock "order_tracking_meta"\."mart_state", /m);

    const monitor = await cli(['monitor', '--json'], env(p, { ORDER_TRACKING_NOW: String(FIRST + 3600) }));
    expect(monitor.code, monitor.stderr).toBe(0);
    expect((JSON.parse(monitor.stdout) as MonitorJson).state).toBe('success');

    const sent = double(p).received;
    // The seed's layout reached the server: Redshift DDL, not PostgreSQL's.
    expect(sent).toContainEqual(
      expect.stringMatching(
        /^create table if not exists "settlement_ods"\."mart_uni_tracking_info" \([\s\S]*\) diststyle key distkey\("order_id"\) compound sortkey\("update_time", "order_id"\)$/,
      ),
    );
    expect(sent).toContainEqual(expect.stringMatching(/"exception_id" bigint identity\(1, 1\)/));
    expect(
      sent.some((s) => /^insert into "settlement_public"\."uni_tracking_info_raw" .* values\n/s.test(s)),
    ).toBe(true);
    expect(double(p).refused).toEqual([]);
  });

  it('commits at most 19 times in a 15-minute cycle: Redshift commits one transaction at a time, cluster-wide', async () => {
    p = await redshiftPair.create();
    const feed = await openFeed(p, {
      seed: 21,
      start: START,
      days: 240,
      ordersPerDay: 6,
      scansPerUpdate: 1.5,
    });
    await feed.advanceTo(FIRST);
    expect((await cli(['init'], env(p))).code).toBe(0);
    await run(p, FIRST + 120);
    await feed.advanceTo(FIRST + 900);
    await feed.close();
    const from = double(p).received.length;
    await run(p, FIRST + 1020);
    // A commit ends each transaction; a write outside one commits on its own (the run ledger's rows).
    const open = new Set<number>();
    let commits = 0;
    const { received, sessions } = double(p);
    for (let i = from; i < received.length; i++) {
      const [sql, session] = [(received[i] ?? '').trim().toLowerCase(), sessions[i] ?? 0];
      if (sql === 'begin') open.add(session);
      else if (sql === 'commit' || sql === 'rollback') {
        open.delete(session);
        commits++;
      } else if (!open.has(session) && /^(insert|update|delete|create|drop|alter|copy)\b/.test(sql))
        commits++;
    }
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThanOrEqual(19);
  });

  it('runs a mart again after a serializable isolation violation (1023), ending as an undisturbed run would', async () => {
    p = await redshiftPair.create();
    await seeded(p);
    double(p).injectSerializationError(/^insert into "settlement_ods"\."mart_ecs_order_info"/);
    const r = await run(p, FIRST + 120);
    expect(double(p).refused.map((x) => x.message)).toEqual([
      expect.stringMatching(/^1023 ERROR: Serializable isolation violation on table/),
    ]);
    expect(r.stderr).toMatch(/concurrent transaction conflict: running the task again/);
    expect(await checkInvariants(p, FIRST + 120)).toEqual([]);
    const [ledger] = await p.warehouse(
      `select state, attempts from order_tracking_meta.task_instances where task = 'mart_ecs' order by run_id desc limit 1`,
    );
    expect(ledger).toEqual({ state: 'success', attempts: 2 });
  });

  it('fails a run at once on any other error, naming it on one line', async () => {
    p = await redshiftPair.create();
    await seeded(p);
    // A check PostgreSQL enforces under the double: a mart insert that fails, not transiently.
    await p.warehouse(
      `alter table ${ODS}.mart_ecs_order_info add constraint no_partner_7 check (partner_id is distinct from 7)`,
    );
    const r = await cli(['run'], env(p, { ORDER_TRACKING_NOW: String(FIRST + 120) }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no_partner_7/);
    expect(r.stderr).not.toMatch(/running the task again/);
  });

  it("follows the seed's maintenance rules from svv_table_info, each VACUUM outside any transaction", async () => {
    p = await redshiftPair.create();
    await seeded(p);
    await run(p, FIRST + 120);
    await p.warehouse(
      `insert into ot_redshift_double.table_info ("schema", "table", unsorted, stats_off) values ($1, 'mart_ecs_order_info', 20, 0), ($1, 'hist_uni_tracking_info_2025_h1', 0, 40)`,
      [ODS],
    );
    const steps = async (now: number) => {
      const r = await cli(
        ['monitor', '--only', 'maintenance', '--json'],
        env(p as EnginePair, { ORDER_TRACKING_NOW: String(now) }),
      );
      expect(r.code, r.stderr).toBe(0);
      const m = JSON.parse(r.stdout) as MonitorJson;
      const step = m.steps.find((s) => s.step === 'maintenance');
      expect(step?.state).toBe('success');
      return (step?.details.steps ?? []).map((s) => s.sql);
    };
    const mart = (t: string) => `"${ODS}"."${t}"`;
    // Monday: the daily DELETE ONLY of mart_uti and mart_uts, mart_ecs re-sorted (20 % unsorted), a stale hist analyzed.
    expect(await steps(FIRST + 3600)).toEqual([
      `vacuum delete only ${mart('mart_uni_tracking_info')}`,
      `vacuum sort only ${mart('mart_ecs_order_info')}`,
      `vacuum delete only ${mart('mart_uni_tracking_spath')}`,
      `analyze ${mart('hist_uni_tracking_info_2025_h1')}`,
    ]);
    // Sunday: mart_ecs's weekly DELETE ONLY too.
    expect(await steps(SUNDAY)).toContain(`vacuum delete only ${mart('mart_ecs_order_info')}`);
    // PostgreSQL refuses VACUUM in a transaction block, so every one the double forwarded ran on its own.
    expect(double(p).refused).toEqual([]);
  });

  it('keeps every multi-row INSERT under the configured statement size, and every row lands once', async () => {
    p = await redshiftPair.create();
    const settings = { ORDER_TRACKING_CONFIG: config({ redshift: { insertMaxBytes: 4096 } }) };
    await seeded(p, settings);
    await run(p, FIRST + 120, settings);
    const inserts = double(p).received.filter((s) =>
      /^insert into "settlement_public"\.\S+ \(.*\) values\n/s.test(s),
    );
    expect(inserts.length).toBeGreaterThan(20);
    for (const s of inserts) expect(Buffer.byteLength(s, 'utf8')).toBeLessThanOrEqual(4096);
    expect(await checkInvariants(p, FIRST + 120)).toEqual([]);
  });

  describe('S3 staging', () => {
    const staged = async (server: S3Server): Promise<string[]> => {
      const listed = await server.client().send(new ListObjectsV2Command({ Bucket: BUCKET }));
      return (listed.Contents ?? []).map((o) => o.Key ?? '');
    };
    const s3Settings = (server: S3Server) => ({
      ORDER_TRACKING_CONFIG: config({
        redshift: {
          s3: { bucket: BUCKET, prefix: 'order-tracking', region: server.region, endpoint: server.endpoint },
        },
      }),
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    });

    it('loads each window with one COPY per table from gzip CSV parts, deleted once the run commits', async () => {
      s3 = await startS3Server();
      await s3.createBucket(BUCKET);
      p = await serverPair({ redshift: true, s3 });
      const settings = s3Settings(s3);
      await seeded(p, settings);
      const r = await run(p, FIRST + 120, settings);
      expect(r.stdout + r.stderr).not.toContain(s3.secretAccessKey);
      const copies = double(p).received.filter((s) => s.startsWith('copy '));
      expect(copies).toHaveLength(3);
      for (const copy of copies)
        expect(copy).toMatch(
          /^copy "settlement_public"\."\w+_raw" \(.*\)\n {2}from 's3:\/\/ot-staging\/order-tracking\/run-\d+\/batch-\d+\/\w+_raw\/'/,
        );
      // Raw is loaded by the COPYs alone (the held rows' copy beside it is filled from the warehouse).
      expect(double(p).received.some((s) => /^insert into "settlement_public"\."\w+_raw"/.test(s))).toBe(
        false,
      );
      expect(await staged(s3)).toEqual([]);
      expect(await checkInvariants(p, FIRST + 120)).toEqual([]);
    });

    it("names what stl_load_errors says when a COPY fails, and keeps that load's parts for diagnosis", async () => {
      s3 = await startS3Server();
      await s3.createBucket(BUCKET);
      p = await serverPair({ redshift: true, s3 });
      const settings = s3Settings(s3);
      await seeded(p, settings);
      // A row the server refuses mid-COPY (a constraint added on PostgreSQL behind the double).
      await p.warehouse(
        `alter table ${RAW}.uni_tracking_info_raw add constraint no_lost check (status <> 'LOST')`,
      );
      await p.source(
        `update uni_tracking_info set status = 'LOST' where id = (select min(id) from (select id from uni_tracking_info) t)`,
      );
      const r = await cli(['run'], env(p, { ORDER_TRACKING_NOW: String(FIRST + 120), ...settings }));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/uni_tracking_info_raw/);
      expect(r.stderr).toMatch(/stl_load_errors|line \d+/);
      expect(r.stderr).toMatch(/no_lost/);
      expect(r.stderr).not.toContain(s3.secretAccessKey);
      expect((await staged(s3)).some((k) => /uni_tracking_info_raw\/part-\d+\.csv\.gz$/.test(k))).toBe(true);
      const [landed] = await p.warehouse(`select count(*) as n from ${RAW}.uni_tracking_info_raw`);
      expect(Number(landed?.n)).toBe(0);
    });

    it('says which bucket refused the keys, never the secret', async () => {
      s3 = await startS3Server();
      await s3.createBucket(BUCKET);
      p = await serverPair({ redshift: true, s3 });
      const settings = {
        ...s3Settings(s3),
        AWS_ACCESS_KEY_ID: 'AKIAWRONG',
        AWS_SECRET_ACCESS_KEY: 'wrong-secret-xyz',
      };
      await seeded(p, settings);
      const r = await cli(['run'], env(p, { ORDER_TRACKING_NOW: String(FIRST + 120), ...settings }));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ot-staging/);
      expect(r.stderr).toMatch(/InvalidAccessKeyId|access key/i);
      expect(r.stderr).not.toContain('wrong-secret-xyz');
    });
  });

  it('plans a redshift:// warehouse offline: the SQL for review without reaching the cluster', async () => {
    const r = await cli(['sql', 'mart_ecs'], {
      ORDER_TRACKING_WAREHOUSE: 'redshift://admin:hunter2@cluster.invalid:5439/prod',
      ORDER_TRACKING_NOW: String(FIRST),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^-- planned without connecting/);
    expect(r.stdout).toMatch(
      /^lock "order_tracking_meta"\."mart_state", "settlement_ods"\."mart_ecs_order_info", /m,
    );
    expect(r.stdout).toMatch(/row_number\(\) over \(partition by "order_id"/);
    expect(r.stdout).not.toMatch(/distinct on|returning/i);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });
});
