import type { WarehouseConnection } from '../engines/warehouse/warehouse.js';
import type { RunContext } from './context.js';
import { faultPoint } from './faults.js';
import type { Task, TaskScope } from './task.js';

export interface TaskReport {
  readonly task: string;
  readonly state: 'success' | 'failed' | 'upstream_failed';
  readonly startedAt: string;
  readonly endedAt: string;
  readonly seconds: number;
  readonly rowsRead?: number;
  readonly rowsWritten?: number;
  readonly note?: string;
  readonly error?: string;
  /** The thrown error, kept in memory for the CLI's exit code (not serialised). */
  readonly cause?: unknown;
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';

/** A scope whose sessions are cancelled on the server when `signal` aborts (SPEC §7 timeouts). */
const scopeFor = (context: RunContext, signal: AbortSignal): TaskScope => ({
  signal,
  async withConnection(fn) {
    signal.throwIfAborted();
    const connection: WarehouseConnection = await context.warehouse.connect();
    const cancel = (): void => void connection.cancel().catch(() => undefined);
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await fn(connection);
    } finally {
      signal.removeEventListener('abort', cancel);
      await connection.release();
    }
  },
});

const runOne = async (
  task: Task,
  context: RunContext,
  outer: AbortSignal | undefined,
): Promise<TaskReport> => {
  const controller = new AbortController();
  const timeoutMs = task.timeoutMinutes * 60_000;
  const timer = setTimeout(
    () =>
      controller.abort(
        new Error(`${task.name} timed out after ${task.timeoutMinutes} min and was cancelled`),
      ),
    timeoutMs,
  );
  const onOuter = (): void => controller.abort(new Error(`${task.name} was cancelled: the run is stopping`));
  outer?.addEventListener('abort', onOuter, { once: true });
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const aborted = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
  );
  aborted.catch(() => undefined);
  try {
    if (outer?.aborted) onOuter();
    const run = task.run(context, scopeFor(context, controller.signal));
    run.catch(() => undefined);
    const outcome = await Promise.race([run, aborted]);
    faultPoint(`after:${task.name}`);
    return {
      task: task.name,
      state: 'success',
      startedAt,
      endedAt: new Date().toISOString(),
      seconds: (performance.now() - started) / 1000,
      ...outcome,
    };
  } catch (error) {
    context.log.debug({ err: error, task: task.name }, 'task failed');
    return {
      task: task.name,
      state: 'failed',
      startedAt,
      endedAt: new Date().toISOString(),
      seconds: (performance.now() - started) / 1000,
      error: firstLine(error),
      cause: error,
    };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
};

/**
 * Runs a task graph: each task starts as soon as every task it comes after has succeeded, so
 * independent tasks run in parallel. A failed task marks everything downstream `upstream_failed`.
 * `onReport` is called as each task settles (the run ledger).
 */
export const executeGraph = async (
  tasks: readonly Task[],
  context: RunContext,
  signal: AbortSignal | undefined,
  onReport: (report: TaskReport) => Promise<void>,
): Promise<TaskReport[]> => {
  const reports = new Map<string, TaskReport>();
  const running = new Map<string, Promise<void>>();
  const pending = new Set(tasks);
  while (pending.size > 0 || running.size > 0) {
    for (const task of [...pending]) {
      const upstream = task.after.map((name) => reports.get(name));
      if (upstream.some((r) => r && r.state !== 'success')) {
        pending.delete(task);
        const now = new Date().toISOString();
        const report: TaskReport = {
          task: task.name,
          state: 'upstream_failed',
          startedAt: now,
          endedAt: now,
          seconds: 0,
        };
        reports.set(task.name, report);
        await onReport(report);
      } else if (upstream.every((r) => r?.state === 'success')) {
        pending.delete(task);
        running.set(
          task.name,
          runOne(task, context, signal).then(async (report) => {
            reports.set(task.name, report);
            running.delete(task.name);
            await onReport(report);
          }),
        );
      }
    }
    if (running.size > 0) await Promise.race(running.values());
    else if (pending.size > 0)
      throw new Error(
        `task graph has a cycle or a missing task: ${[...pending].map((t) => t.name).join(', ')}`,
      );
  }
  return tasks.map((t) => reports.get(t.name) as TaskReport);
};
