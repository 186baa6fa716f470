import type { Column, LogicalType } from '../engines/types.js';

export type SourceTableName = 'uni_tracking_info' | 'ecs_order_info' | 'uni_tracking_spath';

/** How a table's extraction window advances (SPEC §3 calc_window). */
export interface CursorSpec {
  /** Source column the window is taken over (an integer: an auto-increment id or epoch seconds). */
  readonly column: string;
  /**
   * `id`: the upper bound is the largest value in the source snapshot (auto-increment ids);
   * `time`: the upper bound is `now − settleSeconds` (epoch seconds, rows updated in place).
   */
  readonly kind: 'id' | 'time';
  /** How far below the watermark each window starts again, to catch rows committed late. */
  readonly overlap: number;
  /** `time` cursors only: rows younger than this may belong to uncommitted transactions. */
  readonly settleSeconds: number;
}

export interface RequiredColumn {
  /** Spelling in the source (`traceSeq`); the warehouse uses its lower-case form. */
  readonly name: string;
  readonly kinds: readonly LogicalType['kind'][];
}

export interface SourceTableSpec {
  readonly name: SourceTableName;
  /** Short name used in task names and messages (`uti`, `ecs`, `uts`). */
  readonly short: 'uti' | 'ecs' | 'uts';
  /** Columns the pipeline relies on; every other source column is carried through unchanged. */
  readonly required: readonly RequiredColumn[];
  readonly cursor: CursorSpec;
}

const integer = ['integer', 'bigint'] as const;
const text = ['varchar', 'text'] as const;

/** The three source tables as data (SPEC §2, §3). */
export const sourceTables: readonly SourceTableSpec[] = [
  {
    name: 'uni_tracking_info',
    short: 'uti',
    required: [
      { name: 'id', kinds: integer },
      { name: 'order_id', kinds: text },
      { name: 'update_time', kinds: integer },
    ],
    // Updated in place, so only its update_time says what is new; 60 s settle for open transactions.
    cursor: { column: 'update_time', kind: 'time', overlap: 1800, settleSeconds: 60 },
  },
  {
    name: 'ecs_order_info',
    short: 'ecs',
    required: [
      { name: 'id', kinds: integer },
      { name: 'order_id', kinds: text },
      { name: 'partner_id', kinds: integer },
      { name: 'add_time', kinds: integer },
    ],
    cursor: { column: 'id', kind: 'id', overlap: 10_000, settleSeconds: 0 },
  },
  {
    name: 'uni_tracking_spath',
    short: 'uts',
    required: [
      { name: 'id', kinds: integer },
      { name: 'order_id', kinds: text },
      { name: 'traceSeq', kinds: integer },
      { name: 'pathTime', kinds: integer },
    ],
    // By id, not pathTime: a scan uploaded hours after its pathTime still has a new id (SPEC §3).
    cursor: { column: 'id', kind: 'id', overlap: 10_000, settleSeconds: 0 },
  },
];

export const sourceTable = (name: SourceTableName): SourceTableSpec => {
  const spec = sourceTables.find((t) => t.name === name);
  if (!spec) throw new Error(`unknown source table ${name}`);
  return spec;
};

export const rawTableName = (name: SourceTableName): string => `${name}_raw`;

/**
 * Beside raw: a copy of the landed rows held back as FUTURE_TIMESTAMP, kept by the mart cycle
 * (SPEC §5), so that a row coming due is read from a few rows rather than from the batch that
 * landed it, the whole history for an initial load. Raw keeps the row too; this is only its copy.
 */
export const heldTableName = (name: SourceTableName): string => `${name}_held`;

/**
 * The source's columns as the pipeline keeps them: a required integer column (or the cursor
 * column) that arrives as `decimal(p,0)` with p ≤ 20, as MySQL's `BIGINT UNSIGNED` does, stays a
 * bigint, so the keys and cursors of an `id BIGINT UNSIGNED` source keep their type; a value past
 * 2^63 − 1 in it is a bad value (SPEC §5). Applied right after a source table is described.
 */
export const narrowRequired = (
  spec: SourceTableSpec,
  columns: readonly Column[],
  cursorColumn: string = spec.cursor.column,
): Column[] => {
  const integers = new Set([
    ...spec.required.filter((r) => r.kinds.includes('bigint')).map((r) => r.name.toLowerCase()),
    cursorColumn.toLowerCase(),
  ]);
  return columns.map((c) =>
    integers.has(c.name) && c.type.kind === 'decimal' && c.type.scale === 0 && c.type.precision <= 20
      ? { ...c, type: { kind: 'bigint' } }
      : c,
  );
};

/** Load metadata appended to every raw row (SPEC §2). */
export const loadColumns: readonly Column[] = [
  { name: '_batch_id', sourceName: '_batch_id', type: { kind: 'bigint' } },
  { name: '_loaded_at', sourceName: '_loaded_at', type: { kind: 'timestamp' } },
];

/**
 * Marts, validate and cleanup read raw by batch. A b-tree on an ever-increasing batch id only
 * appends to its right edge; BRIN was tried and not used by the planner until VACUUM summarised the
 * newest pages, i.e. exactly the batches a run reads.
 */
export const rawBatchIndex: readonly string[] = ['_batch_id'];

/**
 * How far below the greatest stray id landed (a row whose cursor value is NULL, or before the
 * floor) each window reads strays again, as the id cursors' overlap does for late commits.
 */
export const STRAY_ID_OVERLAP = 10_000;
