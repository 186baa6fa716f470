import type { Settings } from '../config/settings.js';
import { requireSource } from '../config/settings.js';
import { ConfigError, ExitCode, UserError } from '../config/errors.js';
import { openSource } from '../engines/source/open.js';
import type { Source } from '../engines/source/source.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import {
  withConnection,
  type Lease,
  type Warehouse,
  type WarehouseConnection,
  type Dialect,
} from '../engines/warehouse/warehouse.js';
import { exceptionsTable, metaTables } from '../pipeline/meta.js';
import { saveStatusSnapshot } from '../pipeline/status/snapshot.js';
import { cycleTasks } from '../pipeline/tasks/index.js';
import type { RunContext } from './context.js';
import type { Logger } from './logger.js';
import { executeGraph, type TaskReport } from './graph.js';
import type { Task } from './task.js';

export interface RunSummary {
  readonly runId: number;
  /** `run`: the 15-minute cycle; `monitor`: the daily run (SPEC §6). */
  readonly kind: RunKind;
  /** `interrupted`: stopped by SIGTERM or SIGINT (exit `ExitCode.interrupted`). */
  readonly state: 'success' | 'failed' | 'interrupted';
  readonly seconds: number;
  readonly tasks: readonly TaskReport[];
  readonly error?: string;
}

/** What the run ledger records a run as. */
export type RunKind = 'run' | 'monitor';

export interface CycleOptions {
  readonly settings: Settings;
  readonly log: Logger;
  /** The run's clock, epoch seconds; defaults to the wall clock. */
  readonly now?: number;
  /**
   * Stops the run (SIGTERM, SIGINT; the abort reason names the signal): the current task is
   * cancelled and rolled back, nothing new starts, the lease is released.
   */
  readonly signal?: AbortSignal;
  /** A failed task returns the summary (state `failed`) instead of throwing: the monitor prints it. */
  readonly returnFailed?: boolean;
  /** `false`: run without a source when none is configured (monitor steps that read none). */
  readonly needsSource?: boolean;
}

/** Stands in for the source of a run whose tasks read none: any use is a one-line config error. */
const absentSource: Source = (() => {
  const fail = (): never => {
    throw new ConfigError('no source given: pass --source mysql://… or set ORDER_TRACKING_SOURCE');
  };
  return {
    displayUrl: '(no source)',
    describeTable: async () => fail(),
    max: async () => fail(),
    clock: async () => fail(),
    snapshot: async () => fail(),
    close: async () => undefined,
  };
})();

/** The lease key of one pipeline: its metadata schema (SPEC §7: one active run per pipeline). */
export const leaseKey = (settings: Settings): string => `order-tracking:${settings.schemas.meta}`;

const isoNow = (): string => new Date().toISOString();

/**
 * Fails with "run init first" when the metadata tables are missing, and with "run init to upgrade"
 * when a table lacks a column a later release added (`TableSpec.added`).
 */
export const requireInitialized = async (warehouse: Warehouse, settings: Settings): Promise<void> => {
  const runs = metaTables(settings.schemas).runs;
  if (!(await warehouse.describeTable(runs.schema, runs.name)))
    throw new UserError(
      `warehouse ${warehouse.displayUrl} has no ${runs.schema}.${runs.name}: run \`order-tracking init\` first`,
      ExitCode.config,
    );
  const tables = [exceptionsTable(settings.schemas), ...Object.values(metaTables(settings.schemas))];
  // One catalog read for all of them: `describeTable` per table cost the cycle a look-up each.
  const present = await withConnection(warehouse, async (c) =>
    (
      await c.query<{ table_schema: string; table_name: string }>(
        `select table_schema, table_name from information_schema.tables where table_schema in ($1, $2)`,
        [settings.schemas.mart, settings.schemas.meta],
      )
    ).map((r) => `${r.table_schema}.${r.table_name}`),
  );
  const missingTable = tables.find((t) => !present.includes(`${t.schema}.${t.name}`));
  if (missingTable)
    throw new UserError(
      `warehouse ${warehouse.displayUrl} was initialized by an older order-tracking (it has no ${missingTable.schema}.${missingTable.name}): run \`order-tracking init\` to upgrade it`,
      ExitCode.config,
    );
  for (const table of tables) {
    if (!table.added?.length) continue;
    const present = new Set((await warehouse.describeTable(table.schema, table.name))?.map((c) => c.name));
    const missing = table.added.filter((name) => !present.has(name));
    if (missing.length > 0)
      throw new UserError(
        `warehouse ${warehouse.displayUrl} was initialized by an older order-tracking (${table.schema}.${table.name} has no ${missing.join(', ')}): run \`order-tracking init\` to upgrade it`,
        ExitCode.config,
      );
  }
};

/** Takes the pipeline's lease, or fails at once (exit 75) when another run holds it (SPEC §7). */
export const takeLease = async (warehouse: Warehouse, settings: Settings): Promise<Lease> => {
  const lease = await warehouse.tryLease(leaseKey(settings));
  if (!lease)
    throw new UserError(
      `another order-tracking run is active on ${warehouse.displayUrl} (lease ${leaseKey(settings)}); nothing was changed`,
      ExitCode.busy,
    );
  return lease;
};

/**
 * Opens the source, runs `preflight` on it, then opens the warehouse and runs `fn` under the
 * pipeline's lease; always releases and closes. Source problems surface before the warehouse is
 * touched (an embedded warehouse file is not even created). `signal` aborting fails source reads
 * in progress at once.
 */
export const withPipeline = async <P, T>(
  settings: Settings,
  preflight: (source: Source) => Promise<P>,
  fn: (warehouse: Warehouse, source: Source, checked: P) => Promise<T>,
  signal?: AbortSignal,
  needsSource = true,
): Promise<T> => {
  const source =
    settings.source === null && !needsSource
      ? absentSource
      : await openSource(requireSource(settings), {
          readTimeoutSeconds: settings.sourceReadTimeoutSeconds,
          ...(signal ? { signal } : {}),
        });
  try {
    const checked = await preflight(source);
    const warehouse = await openWarehouse(settings.warehouse, { settings });
    try {
      const lease = await takeLease(warehouse, settings);
      try {
        return await fn(warehouse, source, checked);
      } finally {
        // Reads a task left open past its wind-down fail now, so their loads roll back while the
        // warehouse is still open and the lease still held.
        await source.close();
        await lease.release();
      }
    } finally {
      await warehouse.close();
    }
  } finally {
    await source.close();
  }
};

/**
 * Marks runs the ledger still shows `running` as `abandoned`, with the time this run noticed: under
 * the lease no other run is active, so their process ended (SIGKILL, OOM, a lost host) without
 * recording an end, and `status` would show them running forever.
 */
const markAbandoned = async (
  connection: WarehouseConnection,
  d: Dialect,
  runs: string,
  runId: number,
  log: Logger,
): Promise<void> => {
  const open = await connection.query<{ run_id: number }>(
    `select run_id from ${runs} where state = 'running' order by run_id`,
  );
  if (open.length === 0) return;
  await connection.execute(
    `update ${runs} set state = 'abandoned', ended_at = ${d.now}, error = $1 where state = 'running'`,
    [`abandoned: the process ended without recording an end; noticed by run ${runId}`],
  );
  log.warn(
    { runs: open.map((r) => Number(r.run_id)) },
    'marked runs abandoned: their process ended without recording an end',
  );
};

/** The one line for a run stopped by a signal (SPEC §7): where it was, and that nothing is left half-done. */
const interrupted = (runId: number, signal: AbortSignal, reports: readonly TaskReport[]): string => {
  const name = typeof signal.reason === 'string' ? signal.reason : 'asked to stop';
  const running = reports.filter((r) => r.state === 'failed').map((r) => r.task);
  const next = reports.find((r) => r.state === 'cancelled')?.task;
  if (running.length === 0)
    return `run ${runId} was interrupted (${name}) ${next ? `before ${next}` : 'at its end'}; it started nothing more, the lease is released`;
  return `run ${runId} was interrupted (${name}) during ${running.join(' and ')}; nothing it was doing was kept, the lease is released`;
};

/** One 15-minute cycle (SPEC §3), recorded in the run ledger. */
export const runCycle = async (options: CycleOptions): Promise<RunSummary> =>
  runTasks('run', cycleTasks, options);

/**
 * Runs a task graph under the pipeline's lease as one run of the ledger (`runs` with one
 * `task_instances` row per task): the cycle, and the daily monitor (SPEC §6).
 */
export const runTasks = async (
  kind: RunKind,
  tasks: readonly Task[],
  options: CycleOptions,
): Promise<RunSummary> => {
  const { settings, log } = options;
  return withPipeline(
    settings,
    async () => undefined,
    async (warehouse, source) => {
      await requireInitialized(warehouse, settings);
      const d = warehouse.dialect;
      const meta = metaTables(settings.schemas);
      const runs = d.table(meta.runs.schema, meta.runs.name);
      const taskTable = d.table(meta.taskInstances.schema, meta.taskInstances.name);
      const connection = await warehouse.connect();
      try {
        const last = await connection.query<{ m: number }>(
          `select coalesce(max(run_id), 0) as m from ${runs}`,
        );
        const runId = Number(last[0]?.m ?? 0) + 1;
        await markAbandoned(connection, d, runs, runId, log);
        const startedAt = isoNow();
        await connection.execute(
          `insert into ${runs} (run_id, kind, state, started_at) values ($1, $2, 'running', cast($3 as timestamp))`,
          [runId, kind, startedAt.replace('T', ' ').replace('Z', '')],
        );
        const context: RunContext = {
          settings,
          warehouse,
          source,
          runId,
          now: options.now ?? Math.floor(Date.now() / 1000),
          log: log.child({ run: runId }),
          state: {},
        };
        const started = performance.now();
        const reports = await executeGraph(tasks, context, options.signal, async (report) => {
          await connection.execute(
            `insert into ${taskTable} (run_id, task, state, started_at, ended_at, seconds, rows_read, rows_written, error)
           values ($1, $2, $3, cast($4 as timestamp), cast($5 as timestamp), $6, $7, $8, $9)`,
            [
              runId,
              report.task,
              report.state,
              report.startedAt.replace('T', ' ').replace('Z', ''),
              report.endedAt.replace('T', ' ').replace('Z', ''),
              report.seconds,
              report.rowsRead ?? null,
              report.rowsWritten ?? null,
              report.error ?? null,
            ],
          );
        });
        const failed = reports.find((r) => r.state === 'failed');
        const stopped = options.signal?.aborted && reports.some((r) => r.state !== 'success');
        const interruption = stopped ? interrupted(runId, options.signal as AbortSignal, reports) : undefined;
        const summary: RunSummary = {
          runId,
          kind,
          state: interruption ? 'interrupted' : failed ? 'failed' : 'success',
          seconds: (performance.now() - started) / 1000,
          tasks: reports,
          ...(interruption ? { error: interruption } : failed ? { error: failed.error } : {}),
        };
        await connection.execute(
          `update ${runs} set state = $1, ended_at = ${d.now}, error = $2, summary = $3 where run_id = $4`,
          [summary.state, summary.error ?? null, JSON.stringify(summary), runId],
        );
        // The lease is released by `withPipeline` before the CLI prints this line.
        if (interruption) throw new UserError(interruption, ExitCode.interrupted);
        // What `status` shows while the next run holds the warehouse (DuckDB's file lock, SPEC §7);
        // after a failure the source is not read again: it may be why the run failed.
        await saveStatusSnapshot(
          warehouse,
          settings,
          { now: context.now, source: failed || source === absentSource ? null : source },
          log,
        );
        if (failed && !options.returnFailed) {
          const cause = failed.cause;
          if (cause instanceof UserError) throw cause;
          throw new UserError(`run ${runId} failed in ${failed.task}: ${failed.error}`, ExitCode.failure, {
            cause,
          });
        }
        return summary;
      } finally {
        await connection.release();
      }
    },
    options.signal,
    options.needsSource ?? true,
  );
};
