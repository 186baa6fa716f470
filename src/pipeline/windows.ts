import type { CursorRange } from '../engines/source/source.js';
import type { CursorSpec } from './tables.js';

/** What a table's extraction has reached, as stored after its last validated batch. */
export interface Watermark {
  /** The greatest cursor value landed (time cursors: never above the window's upper bound). */
  readonly value: bigint;
  /** The greatest `id` landed among rows the cursor cannot place (NULL, or before the floor). */
  readonly strayId: bigint | null;
}

export interface WindowFacts {
  /** The run's clock, epoch seconds. */
  readonly now: number;
  /** `max(cursor column)` in the source, for `id` cursors (`null`: empty table). */
  readonly sourceMax: bigint | null;
  /** Time cursors: timestamps before this are quarantined and read by id instead (SPEC §5). */
  readonly floor: number;
  /** How far below the stray mark each window reads again, in ids (late commits, as the id cursors). */
  readonly strayOverlap: number;
}

/** Whether rows of this cursor column can fall outside every window: NULL, or before the floor. */
const hasStrays = (cursor: CursorSpec): boolean => cursor.column.toLowerCase() !== 'id';

/** A time cursor's upper bound: rows younger than `settleSeconds` may belong to open transactions. */
export const upperBound = (cursor: CursorSpec, facts: Pick<WindowFacts, 'now' | 'sourceMax'>): bigint =>
  cursor.kind === 'time' ? BigInt(facts.now - cursor.settleSeconds) : (facts.sourceMax ?? 0n);

/**
 * The extraction window of one table (SPEC §3 calc_window): from `watermark − overlap` (exclusive)
 * up to the upper bound (inclusive); the first window has no lower bound. The upper bound never
 * falls below the watermark, so a watermark never moves backwards. Rows the cursor cannot place
 * (a NULL value; a time before the floor) are read by id above their own mark (SPEC §3: a NULL
 * cursor value is landed and quarantined). Exact: ids past 2^53 are bigints throughout.
 */
export const calcWindow = (
  cursor: CursorSpec,
  watermark: Watermark | null,
  facts: WindowFacts,
): CursorRange => {
  const bound = upperBound(cursor, facts);
  const value = watermark?.value ?? null;
  const to = value === null || value < bound ? bound : value;
  const from = value === null ? null : value - BigInt(cursor.overlap);
  if (!hasStrays(cursor)) return { column: cursor.column, from, to };
  const strayId = watermark?.strayId ?? null;
  return {
    column: cursor.column,
    from,
    to,
    strays: {
      floor: cursor.kind === 'time' ? BigInt(facts.floor) : null,
      // The first window reads every stray; later ones those above the mark, less an overlap.
      idAbove: value === null ? null : strayId === null ? null : strayId - BigInt(facts.strayOverlap),
    },
  };
};

/**
 * Why a time cursor's watermark cannot be used: it is ahead of the run's clock, so every window
 * would start above the rows the source writes now and read nothing (a clock that jumped back, or
 * a run with a clock far ahead). `null` when it is fine.
 */
export const watermarkAhead = (cursor: CursorSpec, watermark: Watermark | null, now: number): boolean =>
  cursor.kind === 'time' && watermark !== null && watermark.value > BigInt(now);

/**
 * The watermark after a batch (SPEC §3): the greatest cursor value landed, capped at the window's
 * upper bound, never below the one before; a quiet source keeps it, so the next window re-reads
 * its last overlap. The same for the stray rows' ids.
 */
export const nextWatermark = (
  previous: Watermark | null,
  range: CursorRange,
  landed: { readonly max: bigint | null; readonly strayMax: bigint | null },
): Watermark | null => {
  const capped = landed.max !== null && range.to !== null && landed.max > range.to ? range.to : landed.max;
  const value = maxOf(previous?.value ?? null, capped);
  if (value === null) return null;
  return { value, strayId: maxOf(previous?.strayId ?? null, landed.strayMax) };
};

const maxOf = (a: bigint | null, b: bigint | null): bigint | null =>
  a === null ? b : b === null ? a : a > b ? a : b;

export const describeRange = (r: CursorRange): string =>
  `${r.column} in (${r.from === null ? '-∞' : r.from}, ${r.to === null ? '∞' : r.to}]${
    r.strays
      ? ` and rows with ${r.column} NULL${r.strays.floor !== null ? ` or below ${r.strays.floor}` : ''}${r.strays.idAbove !== null ? ` and id above ${r.strays.idAbove}` : ''}`
      : ''
  }`;
