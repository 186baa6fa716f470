import { ExitCode, UserError } from '../../config/errors.js';
import type { Schemas } from '../../config/settings.js';
import type { Warehouse } from '../../engines/warehouse/warehouse.js';
import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { marts, type MartName } from '../marts.js';
import { metaTables } from '../meta.js';
import { FAILING_ROWS_LIMIT, planDataTests, type DataTest } from '../tests-sql.js';

/** Sessions the tests share out over: the machines this runs on have a few cores, not many. */
const TEST_SESSIONS = 2;

/** Marts whose key a valid unique index holds: a duplicate cannot be committed, so no query checks it. */
export const uniqueByIndex = async (warehouse: Warehouse, schemas: Schemas): Promise<Set<MartName>> => {
  const held = await Promise.all(marts.map((m) => warehouse.enforcesUnique(schemas.mart, m.table, m.key)));
  return new Set(marts.filter((_, i) => held[i]).map((m) => m.name));
};

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
    const ranges = ctx.state.martRanges ?? {};
    const tests = planDataTests(
      d,
      ctx.settings.schemas,
      ranges,
      await uniqueByIndex(ctx.warehouse, ctx.settings.schemas),
    );
    const results: { order_id: string | null; detail: string }[][] = [];
    // The tests only read, and each is one index-driven query: they share out over a few sessions.
    let next = 0;
    let stopped = false;
    const worker = (): Promise<void> =>
      scope.withConnection(async (c) => {
        for (let i = next++; i < tests.length && !stopped; i = next++) {
          scope.signal.throwIfAborted();
          const test = tests[i] as DataTest;
          results[i] = await c
            .query<{ order_id: string | null; detail: string }>(test.sql, test.params)
            .catch((error: unknown) => {
              stopped = true; // the other session takes no further test
              throw error;
            });
        }
      });
    // Settled, not raced: a failing test must not leave the other session reading after the task ends.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(TEST_SESSIONS, tests.length) }, worker),
    );
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    const failing = tests
      .map((test, i) => ({ test, rows: results[i] ?? [] }))
      .filter((t) => t.rows.length > 0);
    for (const { test, rows } of failing)
      (test.severity === 'error' ? failed : warned).push(
        `${test.name} ${rows.length}${rows.length === FAILING_ROWS_LIMIT ? '+' : ''} rows`,
      );
    if (failing.length > 0)
      await scope.withConnection((c) =>
        c.transaction(async () => {
          for (const { test, rows } of failing)
            for (const row of rows)
              await c.execute(
                `insert into ${failuresTable} (run_id, test, severity, order_id, detail, detected_at)
                 values ($1, $2, $3, $4, $5, ${d.now})`,
                [ctx.runId, test.name, test.severity, row.order_id, row.detail],
              );
        }),
      );
    if (failed.length > 0) throw new UserError(`tests failed: ${failed.join('; ')}`, ExitCode.failure);
    return { note: warned.length ? `warnings: ${warned.join('; ')}` : 'all passed' };
  },
};
