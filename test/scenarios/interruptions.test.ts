/**
 * Runs that do not end the normal way (SPEC §7: one active run per pipeline, SIGTERM releases the
 * lease; SPEC §8: non-zero with a one-line reason): a MySQL source whose connection dies or stalls
 * mid-extract, a run stopped by SIGTERM or SIGINT, a run killed outright. Each must end promptly
 * with one clear line and a documented code, leave nothing half-landed, and let the next run
 * converge. Driven through the real CLI; the MariaDB cases go through a TCP proxy on 127.0.0.1.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/settings.js';
import { cli, type CliResult } from '../support/cli.js';
import { embeddedPair, redshiftPair, serverPair, skipServers, type EnginePair } from '../support/engines.js';
import { startTcpProxy, type Break, type TcpProxy } from '../support/tcp-proxy.js';

const NOW = 1_780_000_000; // 2026-05-28, a fixed clock for every run
const HOUR = 3600;
/** Scans of about 250 bytes each: a 2.5 MB stream, far past the proxy's threshold. */
const SCANS = 10_000;
/**
 * Enough scans (about 20 MB) that the server is still writing when the proxy stops reading: more
 * than the socket buffers between it and us hold, so its session waits in `Writing to net`.
 */
const MANY_SCANS = 80_000;
const REMARK = 'r'.repeat(200);
/** The proxy breaks a connection once the server has sent it this much: only the scans' stream does. */
const AFTER_BYTES = 500_000;
const BATCH_SIZE = '200';
/**
 * For a stop: just past the first batch of scans (200 × 250 bytes), so the stream soon waits on
 * the server, and the stop arrives while it waits, as from a source slower than the warehouse.
 */
const STOP_AFTER_BYTES = 60_000;
const MARIADB = { host: '127.0.0.1', port: 3306 } as const;

/** The real CLI, killed if it is still running after 90 s: the bugs under test are runs that never end. */
const runCli = (args: readonly string[], env: Record<string, string>): Promise<CliResult> =>
  cli(args, env, { deadlineMs: 90_000 });

/** MariaDB source, DuckDB warehouse: the pair where a stopped run used to exit 13, silently. */
const mariadbDuckdbPair = async (): Promise<EnginePair> => {
  const server = await serverPair();
  const embedded = await embeddedPair();
  return {
    name: 'duckdb+mariadb',
    warehouseUrl: embedded.warehouseUrl,
    sourceUrl: server.sourceUrl,
    sourceDialect: 'mysql',
    source: (sql, params) => server.source(sql, params),
    warehouse: (sql, params) => embedded.warehouse(sql, params),
    async close() {
      await embedded.close();
      await server.close();
    },
  };
};

const stacks = {
  'duckdb+sqlite': { create: embeddedPair, skip: async () => false },
  'postgres+mariadb': { create: serverPair, skip: skipServers },
  'duckdb+mariadb': { create: mariadbDuckdbPair, skip: skipServers },
  'redshift-double+mariadb': redshiftPair,
} as const;
type StackName = keyof typeof stacks;

const opened: EnginePair[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  for (let x = proxies.pop(); x !== undefined; x = proxies.pop()) await x.close();
  for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
});

/**
 * No retry and no grace: these runs are about the failure or the stop itself, which a retry would
 * meet again (the proxy breaks every connection) and a grace would let the task outrun.
 */
const env = (p: EnginePair, sourceUrl = p.sourceUrl): Record<string, string> => ({
  ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
  ORDER_TRACKING_SOURCE: sourceUrl,
  ORDER_TRACKING_NOW: String(NOW),
  ORDER_TRACKING_RETRY_ATTEMPTS: '1',
  ORDER_TRACKING_STOP_GRACE_SECONDS: '0',
});

/**
 * A fresh, initialised pair whose source holds `scans` scans and, unless `scansOnly`, one tracking
 * row and one order.
 */
const seeded = async (stack: StackName, scans = SCANS, scansOnly = false): Promise<EnginePair> => {
  const p = await stacks[stack].create();
  opened.push(p);
  const init = await cli(['init'], env(p));
  expect(init.code, init.stderr).toBe(0);
  for (let from = 1; from <= scans; from += 500) {
    const ids = Array.from({ length: 500 }, (_, i) => from + i);
    await p.source(
      `insert into uni_tracking_spath (id, order_id, traceSeq, pathTime, scan_site, scan_type, remark) values ${ids.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ids.flatMap((id) => [id, `OT${id}`, 1, NOW - HOUR, 'Zürich', 'ARRIVE', REMARK]),
    );
  }
  if (scansOnly) return p;
  await p.source(
    'insert into uni_tracking_info (id, order_id, tracking_no, status, carrier, location, update_time) values (?, ?, ?, ?, ?, ?, ?)',
    [1, 'OT1', 'TN1', 'IN_TRANSIT', 'DHL', 'Köln', NOW - HOUR],
  );
  await p.source(
    'insert into ecs_order_info (id, order_id, partner_id, customer_name, destination, weight_grams, add_time) values (?, ?, ?, ?, ?, ?, ?)',
    [1, 'OT1', 7, 'Zoë', 'Lyon', 1200, NOW - 2 * HOUR],
  );
  return p;
};

/** The pair's MariaDB source reached through a proxy that breaks the scans' stream as asked. */
const proxied = async (
  p: EnginePair,
  how: Break,
  afterBytes = AFTER_BYTES,
): Promise<{ proxy: TcpProxy; url: string }> => {
  const proxy = await startTcpProxy(MARIADB, afterBytes, how);
  proxies.push(proxy);
  return { proxy, url: p.sourceUrl.replace(`:${MARIADB.port}/`, `:${proxy.port}/`) };
};

const scansInRaw = async (p: EnginePair): Promise<number[]> =>
  (await p.warehouse('select id from settlement_public.uni_tracking_spath_raw order by id')).map((r) =>
    Number(r.id),
  );
const watermarks = (p: EnginePair) =>
  p.warehouse('select table_name, value from order_tracking_meta.watermarks order by table_name');

/** The failed or stopped run left no scan in raw and moved no watermark. */
const nothingHalfLanded = async (p: EnginePair): Promise<void> => {
  expect(await scansInRaw(p), 'scans of the failed batch left in raw').toEqual([]);
  expect(await watermarks(p), 'watermarks moved by a failed run').toEqual([]);
};

/**
 * The next run, on a healthy path, exits 0 and lands every scan exactly once, into the mart too
 * (into raw too, unless the stopped run had validated its batches: then the overlap reads them again).
 */
const converges = async (p: EnginePair, scans = SCANS, rawOnce = true): Promise<void> => {
  const again = await runCli(['run'], env(p));
  expect(again.code, `the next run: ${again.stderr}`).toBe(0);
  if (rawOnce) expect(await scansInRaw(p)).toEqual(Array.from({ length: scans }, (_, i) => i + 1));
  const [mart] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_spath');
  expect(Number(mart?.n)).toBe(scans);
  const marks = await watermarks(p);
  expect(marks.find((m) => m.table_name === 'uni_tracking_spath')?.value).toBe(scans);
};

/** One line on stderr, nothing else. */
const oneLine = (r: CliResult): string => {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0] as string;
};

/** The session streaming the scans, as another session sees it. */
const streamingSession = async (p: EnginePair): Promise<number> => {
  const database = new URL(p.sourceUrl).pathname.slice(1);
  for (;;) {
    const rows = await p.source(
      `select id from information_schema.processlist
        where db = ? and command = 'Query' and id <> connection_id() and info like ?`,
      [database, '%from `uni_tracking_spath`%'],
    );
    if (rows[0]) return Number(rows[0].id);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const sessionGone = async (p: EnginePair, id: number): Promise<void> => {
  while ((await p.source('select id from information_schema.processlist where id = ?', [id])).length > 0)
    await new Promise((resolve) => setTimeout(resolve, 20));
};

const failedNamingScans = (r: CliResult): string => {
  expect(r.hung, `the run never ended: ${r.stderr}`).toBe(false);
  expect(r.code, r.stderr).toBe(1);
  const line = oneLine(r);
  expect(line).toMatch(
    /^order-tracking: run 1 failed in extract: reading uni_tracking_spath from source mysql:\/\/root@127\.0\.0\.1:\d+\/ot_test_\w+ failed: /,
  );
  return line;
};

for (const stack of ['postgres+mariadb', 'duckdb+mariadb', 'redshift-double+mariadb'] as const)
  describe.skipIf(await stacks[stack].skip())(`a MariaDB source lost mid-extract, into ${stack}`, () => {
    it('fails at once naming the table when the proxy in between dies, and the next run lands everything once', async () => {
      const p = await seeded(stack);
      const { url } = await proxied(p, 'destroy');
      const lost = await runCli(['run'], { ...env(p, url), ORDER_TRACKING_BATCH_SIZE: BATCH_SIZE });
      expect(failedNamingScans(lost)).toMatch(/the connection was lost before the result's last row/);
      await nothingHalfLanded(p);
      await converges(p);
    });

    it('fails naming the table when another session KILLs ours while the server waits to write', async () => {
      const p = await seeded(stack, MANY_SCANS);
      const { proxy, url } = await proxied(p, 'hold');
      const running = runCli(['run'], { ...env(p, url), ORDER_TRACKING_BATCH_SIZE: BATCH_SIZE });
      // The proxy stops reading the server mid-result: our session waits in `Writing to net`.
      await proxy.broken;
      const id = await streamingSession(p);
      await p.source(`kill ${id}`);
      await sessionGone(p, id);
      proxy.release();
      failedNamingScans(await running);
      await nothingHalfLanded(p);
      await converges(p, MANY_SCANS);
    });

    it('fails naming the stall when the source stops sending for the read timeout', async () => {
      const p = await seeded(stack);
      const { url } = await proxied(p, 'stall');
      const stalled = await runCli(['run'], {
        ...env(p, url),
        ORDER_TRACKING_BATCH_SIZE: BATCH_SIZE,
        ORDER_TRACKING_SOURCE_READ_TIMEOUT: '2',
      });
      expect(failedNamingScans(stalled)).toMatch(
        /the read stalled: no data from the server for 2 s while waiting for rows \(raise sourceReadTimeoutSeconds or ORDER_TRACKING_SOURCE_READ_TIMEOUT/,
      );
      await nothingHalfLanded(p);
      await converges(p);
    });
  });

for (const stack of [
  'duckdb+sqlite',
  'postgres+mariadb',
  'duckdb+mariadb',
  'redshift-double+mariadb',
] as const)
  describe.skipIf(await stacks[stack].skip())(`a run stopped by a signal on ${stack}`, () => {
    for (const [signal, fault, code] of [
      ['SIGTERM', 'term:during:extract', 143],
      ['SIGINT', 'int:during:extract', 130],
    ] as const)
      it(`exits ${code} with one line on ${signal} mid-extract, and the next run converges`, async () => {
        // Scans only: the fault fires after the first batch of the scans' stream, not of another table.
        const p = await seeded(stack, SCANS, true);
        // From MariaDB through a proxy that holds the rest of the scans for a while: the source is
        // slower than the warehouse, so the stop arrives while the stream waits on the server.
        let url = p.sourceUrl;
        if (p.sourceDialect === 'mysql') {
          const slow = await proxied(p, 'hold', STOP_AFTER_BYTES);
          url = slow.url;
          void slow.proxy.broken.then(() => setTimeout(() => slow.proxy.release(), 2_000));
        }
        const stopped = await runCli(['run'], {
          ...env(p, url),
          ORDER_TRACKING_BATCH_SIZE: BATCH_SIZE,
          ORDER_TRACKING_FAULT: fault,
        });
        expect(stopped.hung, `the run never ended: ${stopped.stderr}`).toBe(false);
        expect(stopped.signal).toBeNull();
        expect(stopped.code, stopped.stderr).toBe(code);
        expect(oneLine(stopped)).toBe(
          `order-tracking: run 1 was interrupted (${signal}) during extract; nothing it was doing was kept, the lease is released`,
        );
        await nothingHalfLanded(p);
        const status = await runCli(['status', '--json'], env(p));
        const runs = (JSON.parse(status.stdout) as { runs: { runId: number; state: string }[] }).runs;
        expect(runs.find((r) => r.runId === 1)?.state).toBe('cancelled');
        await converges(p);
      });
  });

for (const stack of ['duckdb+sqlite', 'postgres+mariadb', 'redshift-double+mariadb'] as const)
  describe.skipIf(await stacks[stack].skip())(`a run stopped by a signal in another task on ${stack}`, () => {
    it('exits 143 naming the mart it stopped, keeps none of that mart, and the next run converges', async () => {
      const p = await seeded(stack);
      const stopped = await runCli(['run'], { ...env(p), ORDER_TRACKING_FAULT: 'term:start:mart_uti' });
      expect(stopped.code, stopped.stderr).toBe(143);
      expect(oneLine(stopped)).toBe(
        'order-tracking: run 1 was interrupted (SIGTERM) during mart_uti; nothing it was doing was kept, the lease is released',
      );
      const [uti] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_info');
      expect(Number(uti?.n), 'mart_uti rows kept from the stopped task').toBe(0);
      const tasks = await p.warehouse(
        'select task, state from order_tracking_meta.task_instances where run_id = 1 order by task',
      );
      expect(tasks.filter((t) => String(t.task).startsWith('mart_'))).toEqual([
        { task: 'mart_ecs', state: 'upstream_failed' },
        { task: 'mart_uti', state: 'cancelled' },
        { task: 'mart_uts', state: 'upstream_failed' },
      ]);
      await converges(p, SCANS, false);
      const [after] = await p.warehouse('select count(*) as n from settlement_ods.mart_uni_tracking_info');
      expect(Number(after?.n)).toBe(1);
    });

    it('exits 143 naming the task it did not start when stopped between tasks', async () => {
      const p = await seeded(stack);
      const stopped = await runCli(['run'], { ...env(p), ORDER_TRACKING_FAULT: 'term:after:extract' });
      expect(stopped.code, stopped.stderr).toBe(143);
      expect(oneLine(stopped)).toBe(
        'order-tracking: run 1 was interrupted (SIGTERM) before validate; it started nothing more, the lease is released',
      );
      expect(await watermarks(p), 'watermarks moved without validate').toEqual([]);
      await converges(p);
    });
  });

for (const stack of ['duckdb+sqlite', 'postgres+mariadb', 'redshift-double+mariadb'] as const)
  describe.skipIf(await stacks[stack].skip())(`a run killed outright on ${stack}`, () => {
    it('is marked abandoned, with the time it was noticed, by the next run', async () => {
      const p = await seeded(stack);
      const killed = await runCli(['run'], { ...env(p), ORDER_TRACKING_FAULT: 'during:extract' });
      expect(killed.signal).toBe('SIGKILL');
      const before = await runCli(['status', '--json'], env(p));
      type Run = { runId: number; state: string; endedAt: string | null; error: string | null };
      const runsOf = (r: CliResult): Run[] => (JSON.parse(r.stdout) as { runs: Run[] }).runs;
      // Nothing has noticed yet: the ledger says what it knows.
      expect(runsOf(before).find((r) => r.runId === 1)?.state).toBe('running');
      await converges(p);
      const after = runsOf(await runCli(['status', '--json'], env(p)));
      const dead = after.find((r) => r.runId === 1);
      expect(dead?.state).toBe('abandoned');
      expect(dead?.endedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(dead?.error).toBe('abandoned: the process ended without recording an end; noticed by run 2');
      expect(after.filter((r) => r.state === 'running')).toEqual([]);
      expect(after.find((r) => r.runId === 2)?.state).toBe('success');
    });
  });

describe('the source read timeout setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ot-read-timeout-'));
  const file = (settings: unknown): string => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(settings));
    return path;
  };

  it('is 300 s unless set, in the file or (winning) the environment', () => {
    expect(resolveSettings({}, {}).sourceReadTimeoutSeconds).toBe(300);
    const config = file({ sourceReadTimeoutSeconds: 45 });
    expect(resolveSettings({ config }, {}).sourceReadTimeoutSeconds).toBe(45);
    expect(
      resolveSettings({ config }, { ORDER_TRACKING_SOURCE_READ_TIMEOUT: '7' }).sourceReadTimeoutSeconds,
    ).toBe(7);
  });

  it('refuses anything but a whole number of seconds, naming the setting', async () => {
    for (const [env, message] of [
      [
        { ORDER_TRACKING_SOURCE_READ_TIMEOUT: '2.5' },
        /^order-tracking: ORDER_TRACKING_SOURCE_READ_TIMEOUT "2\.5" is not a whole number between 1 and 86400$/,
      ],
      [
        { ORDER_TRACKING_CONFIG: file({ sourceReadTimeoutSeconds: 'soon' }) },
        /^order-tracking: config file .*\.json sourceReadTimeoutSeconds: /,
      ],
    ] as const) {
      const r = await runCli(['status'], {
        ORDER_TRACKING_WAREHOUSE: `duckdb:${join(dir, 'w.duckdb')}`,
        ...env,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(oneLine(r)).toMatch(message);
    }
  });
});
