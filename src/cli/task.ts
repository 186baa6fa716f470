import { ConfigError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { openWarehouse } from '../engines/warehouse/open.js';
import { withConnection, type Warehouse, type WarehouseConnection } from '../engines/warehouse/warehouse.js';
import { marts, mart as martSpec, type MartName } from '../pipeline/marts.js';
import { metaTables } from '../pipeline/meta.js';
import { calcWindowTask } from '../pipeline/tasks/calc-window.js';
import { checkDrift } from '../pipeline/tasks/check-drift.js';
import { extract } from '../pipeline/tasks/extract.js';
import { martTask } from '../pipeline/tasks/mart.js';
import { dataTests } from '../pipeline/tasks/tests.js';
import { validate } from '../pipeline/tasks/validate.js';
import type { RunContext } from '../runner/context.js';
import type { Logger } from '../runner/logger.js';
import { recordSkipped, requireInitialized, runTasks, type RunSummary } from '../runner/run-cycle.js';
import type { Task } from '../runner/task.js';
import type { BatchRange } from '../pipeline/tests-sql.js';

/** What `order-tracking task <name>` runs: one step of the cycle (SPEC §3), or the monitor. */
export const taskNames = [
  'check_drift',
  'extract',
  'mart_uti',
  'mart_ecs',
  'mart_uts',
  'tests',
  'monitor',
] as const;
export type TaskName = (typeof taskNames)[number];

export const parseTaskName = (name: string): TaskName => {
  if ((taskNames as readonly string[]).includes(name)) return name as TaskName;
  throw new ConfigError(`task "${name}" is not a task: use one of ${taskNames.join(', ')}`);
};

/** A task run alone: what it waits for in the cycle is another process's business. */
const alone = (task: Task): Task => ({ ...task, after: [] });

/** The cycle's tasks each name runs, in the cycle's order. */
const graphOf = (name: Exclude<TaskName, 'monitor'>): Task[] => {
  switch (name) {
    case 'check_drift':
      return [checkDrift];
    // The extract needs the columns check_drift reads, and lands nothing unvalidated (SPEC §3).
    case 'extract':
      return [checkDrift, calcWindowTask, extract, validate];
    case 'tests':
      return [alone(dataTests)];
    default:
      return [alone(martTask(martSpec(name)))];
  }
};

/**
 * Why a mart has nothing to apply (no validated batch of its source past its mark, nor of
 * mart_uti's for the order-driven mart_ecs), or `null` when it has work.
 */
const martNotReady = async (
  warehouse: Warehouse,
  settings: Settings,
  name: MartName,
): Promise<string | null> => {
  const meta = metaTables(settings.schemas);
  const d = warehouse.dialect;
  const spec = martSpec(name);
  const pending = async (c: WarehouseConnection, source: string) =>
    (
      await c.query<{ n: number }>(
        `select count(*) as n from ${d.table(meta.batches.schema, meta.batches.name)} b
          where b.table_name = $1 and b.state = 'validated'
            and b.batch_id > coalesce((select batch_id from ${d.table(meta.martState.schema, meta.martState.name)}
                                        where mart = $2 and source_table = $1), 0)`,
        [source, name],
      )
    )[0]?.n;
  const sources = spec.retention === 'order' ? [spec.source, martSpec('mart_uti').source] : [spec.source];
  const counts = await withConnection(warehouse, (c) => Promise.all(sources.map((s) => pending(c, s))));
  return counts.some((n) => Number(n) > 0)
    ? null
    : `${name} has nothing to apply: no validated batch of ${sources.join(' or ')} after the last it applied; run \`task extract\` first`;
};

/**
 * The batches the marts applied since the data tests last succeeded, read from the run ledger's
 * summaries (each mart task records `details.batches`): what `task tests` checks.
 */
const rangesSinceTests = async (
  warehouse: Warehouse,
  settings: Settings,
): Promise<Partial<Record<MartName, BatchRange>>> => {
  const runs = metaTables(settings.schemas).runs;
  const rows = await withConnection(warehouse, (c) =>
    c.query<{ summary: string | null }>(
      `select summary from ${warehouse.dialect.table(runs.schema, runs.name)}
        where kind = 'run' and summary is not null order by run_id desc limit 500`,
    ),
  );
  const ranges: Partial<Record<MartName, BatchRange>> = {};
  for (const row of rows) {
    let tasks: RunSummary['tasks'];
    try {
      tasks = (JSON.parse(row.summary as string) as Pick<RunSummary, 'tasks'>).tasks ?? [];
    } catch {
      continue; // a summary that is not JSON says nothing about batches
    }
    if (tasks.some((t) => t.task === 'tests' && t.state === 'success')) break;
    for (const t of tasks) {
      const batches = (t.details as { batches?: BatchRange } | undefined)?.batches;
      if (t.state !== 'success' || !batches || !marts.some((m) => m.name === t.task)) continue;
      const name = t.task as MartName;
      const seen = ranges[name];
      ranges[name] = seen
        ? { from: Math.min(seen.from, batches.from), to: Math.max(seen.to, batches.to) }
        : batches;
    }
  }
  return Object.fromEntries(Object.entries(ranges).filter(([, r]) => r.to > r.from));
};

export interface TaskResult {
  /** The run, or `null` when the task had nothing to do (recorded `skipped`). */
  readonly summary: RunSummary | null;
  readonly text: string;
}

/**
 * `order-tracking task <name>` (SPEC §7): one step alone, under the lease, in the run ledger with
 * trigger `task`, with `run`'s exit codes, so another orchestrator can drive the pipeline. A step
 * whose inputs are not ready does nothing, records a `skipped` run and says why (exit 0).
 */
export const taskCommand = async (
  settings: Settings,
  name: Exclude<TaskName, 'monitor'>,
  options: { readonly log: Logger; readonly now?: number; readonly signal?: AbortSignal },
): Promise<TaskResult> => {
  let initialState: RunContext['state'] = {};
  if (name !== 'check_drift' && name !== 'extract') {
    const warehouse = await openWarehouse(settings.warehouse, { settings });
    try {
      await requireInitialized(warehouse, settings);
      let notReady: string | null = null;
      if (name === 'tests') {
        const martRanges = await rangesSinceTests(warehouse, settings);
        if (Object.keys(martRanges).length === 0)
          notReady = 'tests have nothing to check: no mart applied a batch since they last passed';
        initialState = { martRanges };
      } else notReady = await martNotReady(warehouse, settings, name);
      if (notReady !== null) {
        const runId = await recordSkipped(warehouse, settings, 'run', 'task', notReady);
        return { summary: null, text: `run ${runId} skipped: ${notReady}` };
      }
    } finally {
      await warehouse.close();
    }
  }
  const summary = await runTasks('run', graphOf(name), {
    settings,
    log: options.log,
    trigger: 'task',
    initialState,
    needsSource: name === 'check_drift' || name === 'extract',
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { summary, text: '' };
};
