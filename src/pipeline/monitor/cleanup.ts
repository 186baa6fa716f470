import { epochText } from '../../config/time.js';
import type { Value } from '../../engines/types.js';
import type { TaskOutcome } from '../../runner/context.js';
import { runStatements, type Counts } from '../../runner/plan.js';
import type { Task } from '../../runner/task.js';
import { marts } from '../marts.js';
import { loadColumns, rawTableName } from '../tables.js';
import { toBigInt } from '../watermarks.js';
import {
  CLEANUP_CHUNK_ROWS,
  planDedupeBatches,
  planDeleteBatch,
  planDeleteRepeats,
  planExpiredBatches,
  planOverlappingBatches,
  type DedupeBatch,
  planSetDedupeMark,
  planPruneLedger,
} from './cleanup-sql.js';
import { DAY_SECONDS } from './reconcile-sql.js';

const loadColumnNames = new Set(loadColumns.map((c) => c.name));

/**
 * SPEC §6 raw cleanup, per raw table: the rows each consumed batch repeats, value for value, from
 * the batches before it (the windows' re-read overlap) are deleted, so raw keeps each version
 * once, at its first landing; then the rows of batches every mart has consumed that are older
 * than `monitor.rawRetentionDays` (by the run's clock) are deleted, a batch (or, where the engine
 * locates rows physically, a chunk) per statement and transaction. Never a row of an unvalidated or unconsumed batch, never
 * one an open exception points at.
 */
export const cleanupTask: Task = {
  name: 'cleanup',
  after: [],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    const { settings, warehouse } = ctx;
    const d = warehouse.dialect;
    const before = epochText(ctx.now - settings.monitor.rawRetentionDays * DAY_SECONDS);
    const perTable: Record<string, { expired: number; repeats: number }> = {};
    const ledger: Counts = {};
    await scope.withConnection(async (c) => {
      for (const spec of marts) {
        const table = spec.source;
        const counts: Counts = {};
        // Repeats first, while the batches they repeat are still there to compare with.
        const columns = (await warehouse.describeTable(settings.schemas.raw, rawTableName(table)))
          ?.map((col) => col.name)
          .filter((name) => !loadColumnNames.has(name));
        // Statistics first: the cycle never analyzes raw, and a plan that takes a 6 M-row batch
        // for one row probes the other side once per row.
        const analyze = d.analyze(d.table(settings.schemas.raw, rawTableName(table)));
        if (analyze) await c.execute(analyze);
        const dedupe = planDedupeBatches(d, settings.schemas, table, spec.name);
        let last: number | undefined;
        for (const b of await c.query<{ batch_id: Value; cursor_column: Value; window_from: Value }>(
          dedupe.sql,
          dedupe.params,
        )) {
          const batch: DedupeBatch = {
            batchId: Number(b.batch_id),
            cursorColumn: String(b.cursor_column),
            windowFrom: toBigInt(b.window_from),
          };
          last = batch.batchId;
          if (!columns?.length || batch.windowFrom === null) continue;
          const overlapping = planOverlappingBatches(d, settings.schemas, table, batch);
          const earlier = (await c.query<{ batch_id: Value }>(overlapping.sql, overlapping.params)).map((r) =>
            Number(r.batch_id),
          );
          if (earlier.length > 0)
            await runStatements(
              c,
              [planDeleteRepeats(d, settings.schemas, table, columns, batch, earlier)],
              counts,
              ctx.log,
            );
        }
        if (last !== undefined)
          await c.transaction(() =>
            runStatements(c, planSetDedupeMark(d, settings.schemas, table, last as number), {}, ctx.log),
          );
        const expired = planExpiredBatches(d, settings.schemas, table, spec.name, before);
        for (const b of await c.query<{ batch_id: number; landed_count: number }>(
          expired.sql,
          expired.params,
        )) {
          const [id, rows] = [Number(b.batch_id), Number(b.landed_count)];
          if (rows <= CLEANUP_CHUNK_ROWS || d.capabilities.rowLocator === null) {
            await runStatements(c, [planDeleteBatch(d, settings.schemas, table, id, false)], counts, ctx.log);
            continue;
          }
          // A chunk per statement, each its own transaction, until one deletes less than a chunk.
          for (;;) {
            const n: Counts = {};
            await runStatements(c, [planDeleteBatch(d, settings.schemas, table, id, true)], n, ctx.log);
            counts.deleted = (counts.deleted ?? 0) + (n.deleted ?? 0);
            if ((n.deleted ?? 0) < CLEANUP_CHUNK_ROWS) break;
          }
        }
        perTable[table] = { expired: counts.deleted ?? 0, repeats: counts.repeats ?? 0 };
      }
      const ledgerBefore = epochText(ctx.now - settings.monitor.ledgerRetentionDays * DAY_SECONDS);
      await c.transaction(() =>
        runStatements(c, planPruneLedger(d, settings.schemas, ledgerBefore), ledger, ctx.log),
      );
    });
    const expired = Object.values(perTable).reduce((n, t) => n + t.expired, 0);
    const repeats = Object.values(perTable).reduce((n, t) => n + t.repeats, 0);
    // Files a failed load left staged (kept for diagnosis), by the wall clock their store keeps.
    const staged = await warehouse.cleanStaging?.(
      new Date(Date.now() - settings.monitor.rawRetentionDays * DAY_SECONDS * 1000),
    );
    return {
      rowsWritten: expired + repeats,
      note: `raw: ${expired} rows past ${settings.monitor.rawRetentionDays} days deleted, ${repeats} repeated rows removed${staged === undefined ? '' : `, ${staged} staged load files of failed runs removed`}; ledger: ${ledger.runsPruned ?? 0} runs past ${settings.monitor.ledgerRetentionDays} days pruned`,
      details: {
        cleanup: perTable,
        runsPruned: ledger.runsPruned ?? 0,
        ...(staged === undefined ? {} : { stagedFilesRemoved: staged }),
      },
    };
  },
};
