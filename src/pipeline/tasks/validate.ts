import { ExitCode, UserError } from '../../config/errors.js';
import type { TaskOutcome } from '../../runner/context.js';
import { queryOne, type Task } from '../../runner/task.js';
import { metaTables } from '../meta.js';
import { rawTableName } from '../tables.js';
import { planSetWatermark } from '../watermarks.js';
import { describeRange } from '../windows.js';

/**
 * SPEC §3 validate: rows counted in raw per batch must equal the source's count for the same
 * window and snapshot. Only then do the batches become visible to the marts and the watermarks
 * move, all in one transaction; on a mismatch the batches are discarded and nothing moves.
 */
export const validate: Task = {
  name: 'validate',
  after: ['extract'],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    const { settings, warehouse } = ctx;
    const d = warehouse.dialect;
    const batches = ctx.state.batches ?? [];
    const meta = metaTables(settings.schemas);
    const batchTable = d.table(meta.batches.schema, meta.batches.name);
    return scope.withConnection(async (c) => {
      const problems: string[] = [];
      for (const b of batches) {
        const row = await queryOne<{ n: number }>(
          c,
          `select count(*) as n from ${d.table(settings.schemas.raw, rawTableName(b.table))} where _batch_id = $1`,
          [b.batchId],
        );
        const landed = Number(row?.n ?? 0);
        if (landed !== b.sourceCount)
          problems.push(
            `${b.table} ${describeRange(b.range)}: source has ${b.sourceCount} rows, raw has ${landed}`,
          );
      }
      const ids = batches.map((b) => b.batchId);
      if (problems.length > 0) {
        await c.transaction(async () => {
          for (const b of batches)
            await c.execute(
              `delete from ${d.table(settings.schemas.raw, rawTableName(b.table))} where _batch_id = $1`,
              [b.batchId],
            );
          for (const id of ids)
            await c.execute(`update ${batchTable} set state = 'failed' where batch_id = $1`, [id]);
        });
        throw new UserError(`validate: ${problems.join('; ')}; no watermark moved`, ExitCode.validation);
      }
      await c.transaction(async () => {
        for (const b of batches) {
          await c.execute(`update ${batchTable} set state = 'validated' where batch_id = $1`, [b.batchId]);
          if (b.keepWatermark) continue;
          // Nothing landed yet in a table read from the start: no watermark, read it whole again.
          for (const s of planSetWatermark(d, settings, b.table, b.watermark, b.batchId))
            await c.execute(s.sql, s.params);
        }
      });
      return { rowsRead: batches.reduce((n, b) => n + b.sourceCount, 0) };
    });
  },
};
