import type { CursorRange } from '../../engines/source/source.js';
import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { metaTables } from '../meta.js';
import { sourceTables, type SourceTableName } from '../tables.js';
import { calcWindow, describeRange } from '../windows.js';

/** SPEC §3 calc_window: per table, `(watermark − overlap, upper bound]`. */
export const calcWindowTask: Task = {
  name: 'calc_window',
  after: ['check_drift'],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    const { settings, source, warehouse } = ctx;
    const t = metaTables(settings.schemas).watermarks;
    const stored = await scope.withConnection((c) =>
      c.query<{ table_name: string; cursor_column: string; value: number }>(
        `select table_name, cursor_column, value from ${warehouse.dialect.table(t.schema, t.name)}`,
      ),
    );
    const windows = new Map<SourceTableName, CursorRange>();
    for (const spec of sourceTables) {
      const cursor = settings.cursors[spec.name];
      const mark = stored.find((w) => w.table_name === spec.name);
      // A watermark taken over another column means nothing for this one: start from the beginning
      // (the marts deduplicate, so re-reading is safe).
      const watermark = mark && mark.cursor_column === cursor.column ? Number(mark.value) : null;
      const sourceMax = cursor.kind === 'id' ? await source.max(spec.name, cursor.column) : null;
      const window = calcWindow(cursor, watermark, { now: ctx.now, sourceMax });
      ctx.log.debug({ table: spec.name, window: describeRange(window) }, 'window');
      windows.set(spec.name, window);
    }
    ctx.state.windows = windows;
    return {};
  },
};
