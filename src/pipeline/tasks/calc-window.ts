import { ExitCode, UserError } from '../../config/errors.js';
import type { CursorRange } from '../../engines/source/source.js';
import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { sourceTables, STRAY_ID_OVERLAP, type SourceTableName } from '../tables.js';
import { readWatermarks, resetWatermarkHint } from '../watermarks.js';
import { calcWindow, describeRange, watermarkAhead, type Watermark } from '../windows.js';

/** SPEC §3 calc_window: per table, `(watermark − overlap, upper bound]`. */
export const calcWindowTask: Task = {
  name: 'calc_window',
  after: ['check_drift'],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    const { settings, source } = ctx;
    const marks = await scope.withConnection((c) => readWatermarks(c, ctx.warehouse.dialect, settings));
    const windows = new Map<SourceTableName, CursorRange>();
    const watermarks = new Map<SourceTableName, Watermark | null>();
    const ahead: string[] = [];
    for (const spec of sourceTables) {
      const cursor = settings.cursors[spec.name];
      const watermark = marks.get(spec.name)?.current ?? null;
      if (watermarkAhead(cursor, watermark, ctx.now)) {
        ahead.push(resetWatermarkHint(spec.name, cursor, watermark, ctx.now));
        continue;
      }
      const sourceMax = cursor.kind === 'id' ? await source.max(spec.name, cursor.column) : null;
      const window = calcWindow(cursor, watermark, {
        now: ctx.now,
        sourceMax,
        floor: settings.timestampFloor,
        strayOverlap: STRAY_ID_OVERLAP,
      });
      ctx.log.debug({ table: spec.name, window: describeRange(window) }, 'window');
      windows.set(spec.name, window);
      watermarks.set(spec.name, watermark);
    }
    // Loud, never a silent zero: every later window would start above what the source writes now.
    if (ahead.length > 0) throw new UserError(`calc_window: ${ahead.join('; ')}`, ExitCode.failure);
    ctx.state.windows = windows;
    ctx.state.watermarks = watermarks;
    return {};
  },
};
