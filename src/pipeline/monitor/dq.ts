import type { WarehouseConnection } from '../../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from '../../runner/context.js';
import { runStatements, type Counts } from '../../runner/plan.js';
import { queryOne, type Task } from '../../runner/task.js';
import { listHistTables } from '../hist.js';
import { mart } from '../marts.js';
import { dqChecks, planDqCheck, planDqResult, type DqCheck, type DqCheckName } from './dq-sql.js';

/** What one check found and changed, as `--json` shows it. */
export interface DqCheckResult {
  readonly check: DqCheckName;
  /** Orders failing the check now. */
  readonly failing: number;
  /** Up to 10 of them, comma-separated, smallest first; `null` when none fails. */
  readonly sample: string | null;
  /** Exceptions opened for orders that had no open one of the check's type. */
  readonly opened: number;
  /** Open exceptions of the check's type resolved because their order no longer fails. */
  readonly resolved: number;
}

/** One check in one transaction on its own session: its result row, ledger and all commit together. */
const runCheck = async (ctx: RunContext, c: WarehouseConnection, check: DqCheck): Promise<DqCheckResult> =>
  c.transaction(async () => {
    const d = ctx.warehouse.dialect;
    const facts = {
      schemas: ctx.settings.schemas,
      runId: ctx.runId,
      now: ctx.now,
      utsHistTables:
        check.name === 'dq_missing_spath'
          ? await listHistTables(c, ctx.settings.schemas.mart, mart('mart_uts'))
          : [],
    };
    const counts: Counts = {};
    await runStatements(c, planDqCheck(d, check, facts), counts, ctx.log);
    const result = planDqResult(d, check, facts);
    const row = await queryOne<{ failing: number | string | bigint; sample: string | null }>(
      c,
      result.sql,
      result.params,
    );
    return {
      check: check.name,
      failing: Number(row?.failing ?? 0),
      sample: row?.sample ?? null,
      opened: counts.opened ?? 0,
      resolved: counts.resolved ?? 0,
    };
  });

/** `dq_missing_spath 12 (+3 opened, 1 resolved)` */
const describe = (r: DqCheckResult): string => {
  const changes = [r.opened > 0 ? `+${r.opened} opened` : '', r.resolved > 0 ? `${r.resolved} resolved` : '']
    .filter(Boolean)
    .join(', ');
  return `${r.check} ${r.failing}${changes ? ` (${changes})` : ''}`;
};

/**
 * SPEC §6: the seed's three data-quality checks, in parallel, each on its own session and in its
 * own transaction. Findings are the failing orders, summed over the checks.
 */
export const dqTask: Task = {
  name: 'dq',
  after: [],
  timeoutMinutes: 30,
  async run(ctx, scope): Promise<TaskOutcome> {
    // Settled, not raced: a failing check must not leave another writing after the task ends.
    const settled = await Promise.allSettled(
      dqChecks.map((check) =>
        scope.withConnection((c) => {
          scope.signal.throwIfAborted();
          return runCheck(ctx, c, check);
        }),
      ),
    );
    const checks: DqCheckResult[] = [];
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      checks.push(s.value);
    }
    const opened = checks.reduce((n, r) => n + r.opened, 0);
    const resolved = checks.reduce((n, r) => n + r.resolved, 0);
    return {
      rowsWritten: checks.length + opened + resolved,
      findings: checks.reduce((n, r) => n + r.failing, 0),
      note: checks.map(describe).join(', '),
      details: { checks },
    };
  },
};
