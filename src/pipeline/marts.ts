import type { SourceTableName } from './tables.js';

export type MartName = 'mart_uti' | 'mart_ecs' | 'mart_uts';

/**
 * One mart as data (SPEC §2–§4), read by the generic mart task: which raw table feeds it, its key,
 * the order that picks the winning version, and how rows leave it.
 */
export interface MartSpec {
  readonly name: MartName;
  readonly table: string;
  readonly source: SourceTableName;
  /** One row per distinct key (lower-case warehouse column names). */
  readonly key: readonly string[];
  /** The row's own event time, epoch seconds: versions, future checks, archive routing. */
  readonly ts: string;
  /**
   * Version order, most recent first, before the load order (`_batch_id desc`) breaks the last tie
   * (SPEC §2: update_time desc, id desc, newest load).
   */
  readonly version: readonly string[];
  /**
   * `time`: rows older than the mart's own cutoff leave (mart_uti, mart_uts).
   * `order`: a row leaves only when its order is absent from mart_uti and older than mart_uti's
   * cutoff (mart_ecs: long-lifecycle orders keep their ecs row, SPEC §4).
   */
  readonly retention: 'time' | 'order';
  /** Exception type of a row that aged out but could not be archived (SPEC §4 safety net). */
  readonly gapException: 'ARCHIVE_ROUTING_GAP' | 'ARCHIVE_ROUTING_GAP_UTS';
  /** Marts that must have run first in the cycle. */
  readonly after: readonly MartName[];
  /** Minutes before the runner cancels it (SPEC §7: marts 10). */
  readonly timeoutMinutes: number;
  /** Redshift's compound sort key of the mart and its hist tables (SPEC §2, the seed's). */
  readonly sortKey: readonly string[];
}

export const marts: readonly MartSpec[] = [
  {
    name: 'mart_uti',
    table: 'mart_uni_tracking_info',
    source: 'uni_tracking_info',
    key: ['order_id'],
    ts: 'update_time',
    version: ['update_time', 'id'],
    retention: 'time',
    gapException: 'ARCHIVE_ROUTING_GAP',
    after: [],
    timeoutMinutes: 10,
    sortKey: ['update_time', 'order_id'],
  },
  {
    name: 'mart_ecs',
    table: 'mart_ecs_order_info',
    source: 'ecs_order_info',
    key: ['order_id'],
    ts: 'add_time',
    // add_time never changes; a second ecs row for the same order wins by its newer id.
    version: ['add_time', 'id'],
    retention: 'order',
    gapException: 'ARCHIVE_ROUTING_GAP',
    after: ['mart_uti'],
    timeoutMinutes: 10,
    // The seed's: partner reports read one partner's orders by add_time.
    sortKey: ['partner_id', 'add_time', 'order_id'],
  },
  {
    name: 'mart_uts',
    table: 'mart_uni_tracking_spath',
    source: 'uni_tracking_spath',
    key: ['order_id', 'traceseq', 'pathtime'],
    ts: 'pathtime',
    version: ['id'],
    retention: 'time',
    gapException: 'ARCHIVE_ROUTING_GAP_UTS',
    after: ['mart_uti'],
    timeoutMinutes: 10,
    sortKey: ['pathtime', 'order_id'],
  },
];

export const mart = (name: MartName): MartSpec => marts.find((m) => m.name === name) as MartSpec;

/**
 * The key in storage order: the event time first where the key holds it (mart_uts: `pathtime,
 * order_id, traceseq`). New rows are recent, so an index in this order grows at its right edge,
 * where an order_id-first one takes inserts all over (an index far larger than PostgreSQL's stock
 * shared_buffers); it serves the archive's time ranges too. The deduplication emits rows
 * in this order, so the insert walks the index once. Redshift's mart_uts sort key leads with
 * pathtime for the same reason (SPEC §2).
 */
export const storageKey = (spec: MartSpec): readonly string[] =>
  spec.key.includes(spec.ts) ? [spec.ts, ...spec.key.filter((k) => k !== spec.ts)] : spec.key;

/** `hist_uni_tracking_info_2025_h2` */
export const histTableName = (spec: MartSpec, period: string): string => `hist_${spec.source}_${period}`;

/** Matches every hist table of a mart, with the period in group 1. */
export const histTablePattern = (spec: MartSpec): RegExp =>
  new RegExp(`^hist_${spec.source}_(\\d{4}_h[12])$`);
