import type { Value } from '../engines/types.js';
import type { ResultRow, WarehouseConnection } from '../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from './context.js';

/** What a running task gets from the runner: its cancellation signal and cancellable sessions. */
export interface TaskScope {
  readonly signal: AbortSignal;
  /**
   * A warehouse session whose running statement is cancelled on the server when the task times
   * out or the process is asked to stop (SPEC §7), released when `fn` settles.
   */
  withConnection<T>(fn: (connection: WarehouseConnection) => Promise<T>): Promise<T>;
}

export interface Task {
  readonly name: string;
  /** Tasks that must have succeeded first. */
  readonly after: readonly string[];
  /**
   * Tasks that must have ended first, in any state: an order, not a dependency (the monitor's
   * steps each run even when the one before failed, SPEC §6).
   */
  readonly afterEnded?: readonly string[];
  /** Minutes before the runner cancels it (SPEC §7 defaults: 60, marts 10, tests 5). */
  readonly timeoutMinutes: number;
  run(context: RunContext, scope: TaskScope): Promise<TaskOutcome>;
}

/** Reads one row of one query (a convenience for metadata look-ups). */
export const queryOne = async <T extends ResultRow>(
  connection: WarehouseConnection,
  sql: string,
  params: readonly Value[] = [],
): Promise<T | undefined> => (await connection.query<T>(sql, params))[0];
