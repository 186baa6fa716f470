import type {
  MaintenanceStep,
  MaintenanceTarget,
  WarehouseConnection,
} from '../../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { listHistTables } from '../hist.js';
import { marts } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { rawTableName, sourceTables } from '../tables.js';

/** One step as run, for `--json` and the run ledger's summary. */
export interface MaintenanceReport {
  readonly sql: string;
  readonly table: string | null;
  readonly reason: string;
  readonly seconds: number;
}

/**
 * What maintenance asks the engine about, in the order to run it: the marts, every hist table that
 * exists (the engine leaves out those it finds unchanged), raw, the exceptions ledger.
 */
export const maintenanceTargets = async (
  ctx: RunContext,
  c: WarehouseConnection,
): Promise<MaintenanceTarget[]> => {
  const { schemas } = ctx.settings;
  const hist: MaintenanceTarget[] = [];
  for (const spec of marts)
    for (const table of await listHistTables(c, schemas.mart, spec))
      hist.push({ schema: schemas.mart, table, role: 'hist' });
  const ledger = exceptionsTable(schemas);
  return [
    ...marts.map((m): MaintenanceTarget => ({
      schema: schemas.mart,
      table: m.table,
      role: 'mart',
      mart: m.name,
    })),
    ...hist,
    ...sourceTables.map((t): MaintenanceTarget => ({
      schema: schemas.raw,
      table: rawTableName(t.name),
      role: 'raw',
    })),
    { schema: ledger.schema, table: ledger.name, role: 'ledger' },
  ];
};

/** `VACUUM (ANALYZE) 9 tables in 1.23 s`, `CHECKPOINT in 0.05 s`: each action in plan order. */
export const maintenanceNote = (steps: readonly MaintenanceStep[], seconds: number): string => {
  if (steps.length === 0) return 'nothing to maintain';
  const actions = [...new Set(steps.map((s) => s.action))].map((action) => {
    const tables = steps.filter((s) => s.action === action && s.table !== null).length;
    return tables === 0 ? action : `${action} ${tables} ${tables === 1 ? 'table' : 'tables'}`;
  });
  return `${actions.join(', ')} in ${seconds.toFixed(2)} s`;
};

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';

/**
 * SPEC §6: the engine's maintenance plan (`Warehouse.maintenancePlan`), one statement at a time
 * on one session, each in autocommit, never inside a transaction (PostgreSQL refuses VACUUM in a
 * transaction block, and a statement sent alone on a pooled session runs in autocommit). Every
 * statement is timed.
 */
export const maintenanceTask: Task = {
  name: 'maintenance',
  after: [],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    return scope.withConnection(async (c) => {
      const targets = await maintenanceTargets(ctx, c);
      const plan = await ctx.warehouse.maintenancePlan(targets, { now: ctx.now });
      const started = performance.now();
      const done: MaintenanceReport[] = [];
      for (const step of plan) {
        const t0 = performance.now();
        try {
          await c.execute(step.sql);
        } catch (error) {
          throw new Error(
            `${step.action} of ${step.table ?? 'the database'} failed after ${done.length} of ${plan.length} steps: ${firstLine(error)}`,
            { cause: error },
          );
        }
        const seconds = Math.round(performance.now() - t0) / 1000;
        done.push({ sql: step.sql, table: step.table, reason: step.reason, seconds });
        ctx.log.debug({ table: step.table ?? undefined, seconds }, step.action.toLowerCase());
      }
      const seconds = (performance.now() - started) / 1000;
      return { rowsWritten: done.length, note: maintenanceNote(plan, seconds), details: { steps: done } };
    });
  },
};
