import { ExitCode, UserError } from '../../config/errors.js';
import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { metaTables } from '../meta.js';
import { FAILING_ROWS_LIMIT, planDataTests } from '../tests-sql.js';

/**
 * SPEC §3 tests: each test's failing rows go to `test_failures`; the run fails when an `error` test
 * fails, naming the tests and their row counts.
 */
export const dataTests: Task = {
  name: 'tests',
  after: ['mart_uti', 'mart_ecs', 'mart_uts'],
  timeoutMinutes: 5,
  async run(ctx, scope): Promise<TaskOutcome> {
    const d = ctx.warehouse.dialect;
    const failures = metaTables(ctx.settings.schemas).testFailures;
    const failuresTable = d.table(failures.schema, failures.name);
    const failed: string[] = [];
    const warned: string[] = [];
    await scope.withConnection(async (c) => {
      for (const test of planDataTests(d, ctx.settings.schemas, ctx.state.martRanges ?? {})) {
        const rows = await c.query<{ order_id: string | null; detail: string }>(test.sql, test.params);
        if (rows.length === 0) continue;
        (test.severity === 'error' ? failed : warned).push(
          `${test.name} ${rows.length}${rows.length === FAILING_ROWS_LIMIT ? '+' : ''} rows`,
        );
        await c.transaction(async () => {
          for (const row of rows)
            await c.execute(
              `insert into ${failuresTable} (run_id, test, severity, order_id, detail, detected_at)
               values ($1, $2, $3, $4, $5, current_timestamp)`,
              [ctx.runId, test.name, test.severity, row.order_id, row.detail],
            );
        });
      }
    });
    if (failed.length > 0) throw new UserError(`tests failed: ${failed.join('; ')}`, ExitCode.failure);
    return { note: warned.length ? `warnings: ${warned.join('; ')}` : 'all passed' };
  },
};
