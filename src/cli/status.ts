import { existsSync } from 'node:fs';
import { ExitCode, UserError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { epochText } from '../config/time.js';
import { redact } from '../config/urls.js';
import { nextSlots } from '../serve/schedule.js';
import { readServeState } from '../serve/state.js';
import { bigintAsJson } from '../engines/types.js';
import { openSource } from '../engines/source/open.js';
import type { Source } from '../engines/source/source.js';
import { openWarehouse, statusSnapshotPath, type OpenOptions } from '../engines/warehouse/open.js';
import {
  withConnection,
  WarehouseBusyError,
  type ActiveLease,
  type Warehouse,
} from '../engines/warehouse/warehouse.js';
import { metaTables } from '../pipeline/meta.js';
import { readStatusSnapshot, type StatusSnapshot } from '../pipeline/status/snapshot.js';
import { readStatus } from '../pipeline/status/read.js';
import {
  ESTIMATED_FROM,
  RECENT_RUNS,
  type LastMonitor,
  type StatusReport,
  type TableCount,
  type WatermarkLine,
} from '../pipeline/status/types.js';
import { leaseKey, requireInitialized } from '../runner/run-cycle.js';

/**
 * Opens an initialised warehouse without taking the lease. An embedded warehouse file that does
 * not exist is reported as "run init first" without opening it, so a read never leaves an empty
 * database file behind.
 */
export const openInitializedWarehouse = async (
  settings: Settings,
  options: OpenOptions = {},
): Promise<Warehouse> => {
  const url = settings.warehouse;
  if (url.kind === 'duckdb' && url.path !== ':memory:' && !existsSync(url.path)) {
    const runs = metaTables(settings.schemas).runs;
    throw new UserError(
      `warehouse ${redact(url.url)} has no ${runs.schema}.${runs.name}: run \`order-tracking init\` first`,
      ExitCode.config,
    );
  }
  const warehouse = await openWarehouse(url, { settings, ...options });
  try {
    await requireInitialized(warehouse, settings);
    return warehouse;
  } catch (error) {
    await warehouse.close();
    throw error;
  }
};

/** What a reader reads: the warehouse, or the last snapshot while a run holds it. */
export type Reading =
  { readonly warehouse: Warehouse } | { readonly snapshot: StatusSnapshot; readonly holder: ActiveLease };

/**
 * Opens an initialised warehouse read-only for `status` and `exceptions list`. While a run holds
 * an embedded warehouse's file (DuckDB: one writer or many readers; the file lock is the lease,
 * SPEC §7), gives the snapshot that init or the last run left instead; with none, exits 75 as a
 * second run would, since there is nothing to show.
 */
export const openForReading = async (settings: Settings): Promise<Reading> => {
  try {
    return { warehouse: await openInitializedWarehouse(settings, { readOnly: true }) };
  } catch (error) {
    if (!(error instanceof WarehouseBusyError)) throw error;
    const path = statusSnapshotPath(settings.warehouse);
    let why = 'no status snapshot was written yet to show instead (init and every run leave one)';
    try {
      const snapshot = path === null ? null : await readStatusSnapshot(path);
      if (snapshot) return { snapshot, holder: error.holder };
    } catch (unreadable) {
      why = firstLine(unreadable);
    }
    const pid = error.holder.pid === null ? '' : ` (pid ${error.holder.pid})`;
    throw new WarehouseBusyError(
      `another order-tracking process${pid} is using the warehouse ${redact(settings.warehouse.url)} and ${why}; wait for it to finish`,
      error.holder,
      { cause: error },
    );
  }
};

/**
 * The line above what a reader shows while a run is active: its holder, and when the snapshot
 * shown instead of the warehouse was taken.
 */
export const activeRunLine = (
  holder: ActiveLease,
  snapshotAt: string | null,
  holding = 'run active',
): string => {
  const who = [
    holder.pid === null ? '' : `pid ${holder.pid}`,
    holder.since === null ? '' : `since ${shortTime(holder.since)} UTC`,
  ]
    .filter(Boolean)
    .join(', ');
  const shown =
    snapshotAt === null
      ? ''
      : `: the warehouse file is locked, showing the snapshot taken ${shortTime(snapshotAt)} UTC`;
  return `${holding}${who ? ` (${who})` : ''}${shown}`;
};

/** Lines of cells padded to aligned columns; `right` marks the columns aligned right (numbers). */
export const alignColumns = (
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string[] => {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
};

/** `2026-05-28T20:26:40.123Z` → `2026-05-28 20:26:40` (all times are UTC). */
export const shortTime = (iso: string | null): string =>
  iso === null ? '' : iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');

/** Epoch seconds as `2026-05-28 20:26:40` (UTC); a value beyond any date as its number. */
export const epochTime = (epoch: number | bigint): string => epochText(epoch);

/** A duration, rounded for reading: `42 s`, `12 min`, `3.5 h`, `2.0 d`. */
export const formatLag = (seconds: number): string => {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
};

/** A count with thousands separators: `37,690`. */
export const formatCount = (n: number | bigint): string => n.toLocaleString('en-US');

const watermarkCells = (w: WatermarkLine): string[] => {
  const value =
    w.value === null ? 'none yet' : w.kind === 'time' ? epochTime(w.value) : `id ${formatCount(w.value)}`;
  const lag =
    w.ahead !== null
      ? `ahead of the clock: the next run stops until it is reset (order-tracking reset-watermark ${w.table} --to …)`
      : w.lagSeconds !== null
        ? w.lagSeconds >= 0
          ? `${formatLag(w.lagSeconds)} behind`
          : `${formatLag(-w.lagSeconds)} ahead of the clock`
        : w.idsBehind !== null
          ? `${formatCount(w.idsBehind)} ids behind source max ${formatCount(w.sourceMax ?? 0)}`
          : w.value !== null && w.kind === 'id' && w.sourceMax === null && w.note === null
            ? '-'
            : '';
  return [w.table, w.cursorColumn, value, [lag, w.note].filter(Boolean).join('; ')];
};

/** The human form of `status`: short aligned sections, times in UTC. */
export const formatStatus = (r: StatusReport): string => {
  const out: string[] = [];
  if (r.activeRun)
    out.push(
      activeRunLine(
        r.activeRun,
        r.snapshot?.takenAt ?? null,
        // On DuckDB a running serve holds the file between its runs too: name it, not a run.
        r.serve && r.activeRun.pid === r.serve.pid ? 'serve holds the warehouse' : 'run active',
      ),
    );
  const section = (title: string, rows: string[][], right: number[] = []): void => {
    out.push('');
    if (rows.length === 0) {
      out.push(`${title}: none`);
      return;
    }
    const [header, ...body] = alignColumns(rows, right);
    out.push(`${title}`, `  ${header}`, ...body.map((line) => `  ${line}`));
  };

  out.push(
    ...alignColumns([
      ['warehouse', r.warehouse],
      ...(r.source
        ? [
            [
              'source',
              r.source.error === null
                ? r.source.url
                : r.source.error.startsWith(`source ${r.source.url} `)
                  ? r.source.error.slice('source '.length)
                  : `${r.source.url} (not read: ${r.source.error})`,
            ],
          ]
        : []),
      ['clock', `${epochTime(r.now)} UTC`],
      ...(r.schedule
        ? [
            [
              'schedule',
              `cycle "${r.schedule.cycle}" next ${r.schedule.next.cycle.map(shortTime).join(', ')}; monitor "${r.schedule.monitor}" next ${shortTime(r.schedule.next.monitor[0] ?? null)} (${r.schedule.timezone}, times UTC)`,
            ],
          ]
        : []),
      ...(r.serve !== undefined
        ? [
            [
              'serve',
              r.serve
                ? `${r.serve.url} (pid ${r.serve.pid}, since ${shortTime(r.serve.startedAt)} UTC)`
                : 'not running on this machine',
            ],
          ]
        : []),
      ...(r.source?.clock != null
        ? [
            [
              'source clock',
              `${epochTime(r.source.clock)} UTC (${r.source.clockSkew === 0 ? 'the same as ours' : `${formatLag(Math.abs(r.source.clockSkew ?? 0))} ${(r.source.clockSkew ?? 0) < 0 ? 'behind' : 'ahead of'} ours`})`,
            ],
          ]
        : []),
    ]),
  );

  section(
    `runs (last ${RECENT_RUNS})`,
    r.runs.length === 0
      ? []
      : [
          ['run', 'kind', 'state', 'started', 'seconds', 'error'],
          ...r.runs.map((run) => [
            String(run.runId),
            run.kind,
            run.state,
            shortTime(run.startedAt),
            run.seconds === null ? '' : run.seconds.toFixed(2),
            truncate(run.error ?? '', 80),
          ]),
        ],
    [0, 4],
  );

  out.push('', ...lastMonitorLines(r.lastMonitor));

  section('watermarks', [['table', 'cursor', 'watermark', 'lag'], ...r.watermarks.map(watermarkCells)]);
  for (const warning of [r.source?.clockWarning, ...r.watermarks.map((w) => w.ahead)])
    if (warning) out.push(`  warning: ${warning}`);

  /** A count, or `~` and the server's estimate for a table of `ESTIMATED_FROM` rows or more. */
  const rows = (t: TableCount): string => (t.estimated ? `~${formatCount(t.rows)}` : formatCount(t.rows));
  const tableRow = (t: TableCount): string[] => [`${t.schema}.${t.table}`, t.exists ? rows(t) : 'absent'];
  section('tables', [['table', 'rows'], ...r.tables.raw.map(tableRow), ...r.tables.marts.map(tableRow)], [1]);
  const estimated = [...r.tables.raw, ...r.tables.marts, ...r.hist.flatMap((p) => p.tables)].some(
    (t) => t.estimated,
  );
  if (estimated)
    out.push(
      `  ~ the server's estimate, for tables of ${formatCount(ESTIMATED_FROM)} rows or more; the others are counted`,
    );

  section(
    'hist tables by period',
    r.hist.length === 0
      ? []
      : [
          ['period', 'table', 'rows'],
          ...r.hist.flatMap((p) =>
            p.tables.map((t, i) => [i === 0 ? p.period : '', `${t.schema}.${t.table}`, rows(t)]),
          ),
        ],
    [2],
  );

  section(
    'open exceptions',
    r.exceptions.byType.length === 0
      ? []
      : [
          ['type', 'open', 'oldest', 'newest'],
          ...r.exceptions.byType.map((e) => [
            e.type,
            formatCount(e.count),
            shortTime(e.oldest),
            shortTime(e.newest),
          ]),
          ...(r.exceptions.byType.length > 1 ? [['total', formatCount(r.exceptions.open), '', '']] : []),
        ],
    [1],
  );
  return out.join('\n');
};

/**
 * The "last monitor" section: when the latest monitor run started, its state and duration, then a
 * line per step with its findings; `last monitor: never` before the first.
 */
export const lastMonitorLines = (m: LastMonitor | null | undefined): string[] => {
  if (!m) return ['last monitor: never'];
  const outcome =
    m.state === 'running'
      ? 'running'
      : `${m.state}${m.seconds === null ? '' : ` in ${m.seconds.toFixed(2)} s`}${m.steps.length > 0 ? `, ${formatCount(m.findings)} finding${m.findings === 1 ? '' : 's'}` : ''}`;
  const started = m.startedAt === null ? '' : `, started ${shortTime(m.startedAt)} UTC`;
  const lines = [`last monitor: run ${m.runId}${started}, ${outcome}`];
  if (m.steps.length > 0) {
    const rows = alignColumns(
      [
        ['step', 'state', 'seconds', 'findings', 'result'],
        ...m.steps.map((s) => [
          s.step,
          s.state,
          s.seconds.toFixed(2),
          formatCount(s.findings),
          truncate(s.note, 80),
        ]),
      ],
      [2, 3],
    );
    lines.push(...rows.map((line) => `  ${line}`));
  }
  if (m.error) lines.push(`  error: ${truncate(m.error, 120)}`);
  return lines;
};

const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** The schedule's next slots, and the serve running on this machine, if any. */
const serveLines = async (settings: Settings): Promise<Pick<StatusReport, 'schedule' | 'serve'>> => {
  const { timezone, cycle, monitor } = settings.schedule;
  const next = (expression: string): string[] => nextSlots(expression, timezone, 3);
  const state = await readServeState(settings);
  return {
    schedule: { cycle, monitor, timezone, next: { cycle: next(cycle), monitor: next(monitor) } },
    serve: state && { url: state.url, pid: state.pid, startedAt: state.startedAt },
  };
};

/**
 * `order-tracking status [--json]` (SPEC §8): read-only, takes no lease. With a source configured,
 * `id` watermarks are compared with the source's max id; a source that cannot be opened is noted,
 * not fatal. A run that is active is named on the first line (`activeRun` in JSON); while it holds
 * an embedded warehouse's file, the last snapshot is shown instead (`snapshot`).
 */
export const statusCommand = async (
  settings: Settings,
  options: { readonly json: boolean; readonly now?: number },
): Promise<string> => {
  const reading = await openForReading(settings);
  const serving = await serveLines(settings);
  if ('snapshot' in reading) {
    const { snapshot, holder } = reading;
    const report: StatusReport = {
      ...snapshot.report,
      ...serving,
      activeRun: holder,
      snapshot: { takenAt: snapshot.takenAt },
    };
    return options.json ? JSON.stringify(report, bigintAsJson) : formatStatus(report);
  }
  const { warehouse } = reading;
  let source: Source | null = null;
  try {
    let sourceError: string | null = null;
    if (settings.source) {
      try {
        source = await openSource(settings.source);
      } catch (error) {
        sourceError = firstLine(error);
      }
    }
    const read = await withConnection(warehouse, (c) =>
      readStatus(c, warehouse.dialect, {
        settings,
        warehouseUrl: warehouse.displayUrl,
        now: options.now ?? Math.floor(Date.now() / 1000),
        source: settings.source && {
          url: source?.displayUrl ?? redact(settings.source.url),
          open: source,
          error: sourceError,
        },
      }),
    );
    const activeRun = (await warehouse.activeLease?.(leaseKey(settings))) ?? null;
    const report: StatusReport = { ...read, ...serving, activeRun, snapshot: null };
    return options.json ? JSON.stringify(report, bigintAsJson) : formatStatus(report);
  } finally {
    await source?.close();
    await warehouse.close();
  }
};
