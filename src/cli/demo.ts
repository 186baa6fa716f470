import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { ConfigError } from '../config/errors.js';
import { resolveSettings, type CliOptions, type Settings } from '../config/settings.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import { withConnection, type Warehouse } from '../engines/warehouse/warehouse.js';
import { listHistTables } from '../pipeline/hist.js';
import { histTablePattern, marts } from '../pipeline/marts.js';
import { exceptionsTable } from '../pipeline/meta.js';
import { CYCLE_SECONDS, createGenerator, openSqliteWriter, summaryLines } from '../generator/index.js';
import { createLogger } from '../runner/logger.js';
import { runCycle, runTasks } from '../runner/run-cycle.js';
import { monitorTasks } from '../pipeline/monitor/index.js';
import { monitorSteps } from '../pipeline/monitor/steps.js';
import { rawTableName } from '../pipeline/tables.js';
import { formatMonitor } from './monitor.js';
import { initWarehouse } from '../runner/init.js';
import { formatSummary } from './run.js';

const DAY = 86_400;
/** Generated activity runs from here for `days`: with the default 420 days it crosses 1 Jul 2025 and 1 Jan 2026. */
const DEMO_START = Date.UTC(2025, 2, 1) / 1000;
/** The first run loads this much history at once; the rest is replayed run by run. */
const INITIAL_DAYS = 200;
/** Replay step before the live end. */
const STEP_DAYS = 7;
/** The live end of the replay, in 15-minute cycles. */
const LIVE_CYCLES = 8;
const demoDir = join('.order-tracking', 'demo');

/** Rows per mart and per hist period, one line per source table, and open exceptions by type. */
const placementTable = async (warehouse: Warehouse, settings: Settings): Promise<string> =>
  withConnection(warehouse, async (c) => {
    const d = warehouse.dialect;
    const count = async (table: string): Promise<number> =>
      Number(
        (
          await c.query<{ n: number }>(`select count(*) as n from ${d.table(settings.schemas.mart, table)}`)
        )[0]?.n ?? 0,
      );
    const perMart = new Map<string, Map<string, number>>();
    const periods = new Set<string>();
    for (const spec of marts) {
      const row = new Map<string, number>([['mart', await count(spec.table)]]);
      for (const h of await listHistTables(c, settings.schemas.mart, spec)) {
        const period = histTablePattern(spec).exec(h)?.[1] ?? h;
        periods.add(period);
        row.set(period, await count(h));
      }
      perMart.set(spec.name, row);
    }
    const columns = ['mart', ...[...periods].sort()];
    const lines = [
      `  ${''.padEnd(10)}${columns.map((c) => (c === 'mart' ? 'mart' : `hist ${c}`).padStart(15)).join('')}`,
    ];
    for (const [name, row] of perMart)
      lines.push(
        `  ${name.padEnd(10)}${columns.map((c) => String(row.get(c) ?? '-').padStart(15)).join('')}`,
      );
    const e = exceptionsTable(settings.schemas);
    const open = await c.query<{ exception_type: string; n: number }>(
      `select exception_type, count(*) as n from ${d.table(e.schema, e.name)} where resolved_at is null group by exception_type order by 1`,
    );
    lines.push(
      '',
      `  open exceptions: ${open.map((o) => `${o.exception_type} ${o.n}`).join(', ') || 'none'}`,
    );
    return lines.join('\n');
  });

/** Rows per raw table (the cleanup's before and after). */
const rawSizes = async (settings: Settings): Promise<Map<string, number>> => {
  const warehouse = await openWarehouse(settings.warehouse, { settings });
  try {
    return await withConnection(warehouse, async (c) => {
      const sizes = new Map<string, number>();
      for (const spec of marts) {
        const rows = await c.query<{ n: number }>(
          `select count(*) as n from ${warehouse.dialect.table(settings.schemas.raw, rawTableName(spec.source))}`,
        );
        sizes.set(spec.source, Number(rows[0]?.n ?? 0));
      }
      return sizes;
    });
  } finally {
    await warehouse.close();
  }
};

const isoDay = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 10);

/**
 * `order-tracking demo`: generates a SQLite source under `.order-tracking/demo/`, loads its first
 * months into an embedded DuckDB warehouse there, replays the rest run by run (the last two hours
 * in 15-minute cycles) so archives rotate across half-year boundaries, then shows where rows went.
 */
export const demoCommand = async (cli: CliOptions, days: number): Promise<void> => {
  if (!Number.isInteger(days) || days < INITIAL_DAYS + 2 || days > 1000)
    throw new ConfigError(`--days "${days}" is not a whole number between ${INITIAL_DAYS + 2} and 1000`);
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(demoDir, { recursive: true });
  const sourcePath = join(demoDir, 'source.sqlite');
  const settings = resolveSettings({
    ...cli,
    source: `sqlite:${sourcePath}`,
    warehouse: `duckdb:${join(demoDir, 'warehouse.duckdb')}`,
  });
  // The demo prints its own report; per-run warnings (data test notes) would drown the progress bar.
  const log = createLogger(false).child({}, { level: 'error' });
  const generator = createGenerator({
    seed: 42,
    start: DEMO_START,
    days,
    ordersPerDay: 80,
    rates: { reactivated: 0.03 },
  });
  const end = DEMO_START + days * DAY;
  const writer = openSqliteWriter(sourcePath);
  await writer.createTables();
  const out = (line = ''): void => void process.stdout.write(`${line}\n`);

  const firstLoad = DEMO_START + INITIAL_DAYS * DAY;
  out(
    `Generating ${INITIAL_DAYS} days of history (${isoDay(DEMO_START)} … ${isoDay(firstLoad)}) into ${sourcePath}`,
  );
  await generator.advanceTo(writer, firstLoad);
  await initWarehouse(settings);
  const first = await runCycle({ settings, log, now: firstLoad + 120 });
  out(
    `Initial load: run ${first.runId} in ${first.seconds.toFixed(1)} s (${first.tasks.find((t) => t.task === 'extract')?.note ?? ''})`,
  );

  const stops: number[] = [];
  const live = end - LIVE_CYCLES * CYCLE_SECONDS;
  for (let t = firstLoad + STEP_DAYS * DAY; t < live; t += STEP_DAYS * DAY) stops.push(t);
  for (let i = 0; i <= LIVE_CYCLES; i++) stops.push(live + i * CYCLE_SECONDS);
  out(
    `Replaying ${isoDay(firstLoad)} … ${isoDay(end)}: ${stops.length - LIVE_CYCLES - 1} runs ${STEP_DAYS} days apart, then ${LIVE_CYCLES} fifteen-minute cycles`,
  );

  const bar = new cliProgress.SingleBar(
    {
      format: '  {bar} {value}/{total} runs  {day}  {rows} rows extracted',
      hideCursor: true,
      stream: process.stdout,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(stops.length, 0, { rows: 0, day: isoDay(firstLoad) });
  let rows = 0;
  let last = first;
  for (const [i, t] of stops.entries()) {
    await generator.advanceTo(writer, t);
    last = await runCycle({ settings, log, now: t + 120 });
    rows += last.tasks.find((task) => task.task === 'extract')?.rowsWritten ?? 0;
    bar.update(i + 1, { rows, day: isoDay(t) });
  }
  bar.stop();
  await writer.close();

  out('');
  out('The source:');
  for (const line of summaryLines(generator.summary)) out(`  ${line}`);
  out('');
  out(`The last 15-minute cycle (run ${last.runId}):`);
  out(formatSummary(last).split('\n').slice(1).join('\n'));
  out('');
  out(`Where everything went in ${settings.warehouse.url}:`);
  const warehouse = await openWarehouse(settings.warehouse, { settings });
  try {
    out(await placementTable(warehouse, settings));
  } finally {
    await warehouse.close();
  }
  out('');
  const rawBefore = await rawSizes(settings);
  const monitor = await runTasks('monitor', monitorTasks(monitorSteps), {
    settings,
    log,
    now: stops.at(-1)! + 180,
    returnFailed: true,
  });
  out(`The daily monitor (run ${monitor.runId}):`);
  out(formatMonitor(monitor).split('\n').slice(1).join('\n'));
  const rawAfter = await rawSizes(settings);
  out(
    `  raw rows: ${[...rawBefore.entries()].map(([t, n]) => `${t} ${n} → ${rawAfter.get(t) ?? 0}`).join(', ')}`,
  );
  out('');
  out('Look around:');
  out(`  npx order-tracking status --warehouse duckdb:${join(demoDir, 'warehouse.duckdb')}`);
  out(`  npx order-tracking exceptions list --open --warehouse duckdb:${join(demoDir, 'warehouse.duckdb')}`);
  out('The dashboard (the scheduler runs a cycle every 15 minutes; Ctrl-C stops it):');
  out(
    `  npx order-tracking serve --warehouse duckdb:${join(demoDir, 'warehouse.duckdb')} --source sqlite:${sourcePath}   # then open http://127.0.0.1:8080`,
  );
};
