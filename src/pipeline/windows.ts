import type { CursorRange } from '../engines/source/source.js';
import type { CursorSpec } from './tables.js';

export interface WindowFacts {
  /** The run's clock, epoch seconds. */
  readonly now: number;
  /** `max(cursor column)` in the source, for `id` cursors (`null`: empty table). */
  readonly sourceMax: number | null;
}

/**
 * The extraction window of one table (SPEC §3 calc_window): from `watermark − overlap` (exclusive)
 * up to the upper bound (inclusive). The first window has no lower bound. The upper bound never
 * falls below the watermark, so a watermark never moves backwards.
 */
export const calcWindow = (cursor: CursorSpec, watermark: number | null, facts: WindowFacts): CursorRange => {
  const bound = cursor.kind === 'time' ? facts.now - cursor.settleSeconds : (facts.sourceMax ?? 0);
  const to = watermark === null ? bound : Math.max(watermark, bound);
  return { column: cursor.column, from: watermark === null ? null : watermark - cursor.overlap, to };
};

export const describeRange = (r: CursorRange): string =>
  `${r.column} in (${r.from === null ? '-∞' : r.from}, ${r.to}]`;
