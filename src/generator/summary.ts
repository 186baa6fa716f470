/** What the generator has written, for the demo's report and for tests. */
import type { SourceTableName } from './source-ddl.js';

export type TableCounts = { readonly [T in SourceTableName]: number };

export interface GeneratorSummary {
  /** Rows inserted per table (new ids). */
  readonly inserted: TableCounts;
  /** In-place updates of existing uni_tracking_info rows. */
  readonly trackingUpdates: number;
  /** Rows inserted with `order_id` NULL, per table. */
  readonly nullOrderIds: TableCounts;
  /** Writes whose `update_time` / `pathTime` is more than 1 day after the write (SPEC §5). */
  readonly futureTimestamps: { readonly uni_tracking_info: number; readonly uni_tracking_spath: number };
  /** Scans inserted 1–6 hours after their `pathTime`. */
  readonly lateScans: number;
  readonly orders: {
    readonly created: number;
    /** Orders that reached DELIVERED. */
    readonly delivered: number;
    /** Orders created with a 7–9 month lifecycle. */
    readonly longLifecycle: number;
    /** Orders that woke up after 8 or 14 months of dormancy and got new updates. */
    readonly reactivated: number;
    /** Orders that got a second uni_tracking_info row. */
    readonly duplicateTracking: number;
    /** ...of which both rows share `update_time` (ties). */
    readonly tiedTracking: number;
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
export type SummaryCounters = Mutable<GeneratorSummary>;

const tableCounts = (): Mutable<TableCounts> => ({
  ecs_order_info: 0,
  uni_tracking_info: 0,
  uni_tracking_spath: 0,
});

export function emptySummary(): SummaryCounters {
  return {
    inserted: tableCounts(),
    trackingUpdates: 0,
    nullOrderIds: tableCounts(),
    futureTimestamps: { uni_tracking_info: 0, uni_tracking_spath: 0 },
    lateScans: 0,
    orders: {
      created: 0,
      delivered: 0,
      longLifecycle: 0,
      reactivated: 0,
      duplicateTracking: 0,
      tiedTracking: 0,
    },
  };
}

/** A deep, independent copy. */
export function snapshotSummary(s: GeneratorSummary): GeneratorSummary {
  return {
    inserted: { ...s.inserted },
    trackingUpdates: s.trackingUpdates,
    nullOrderIds: { ...s.nullOrderIds },
    futureTimestamps: { ...s.futureTimestamps },
    lateScans: s.lateScans,
    orders: { ...s.orders },
  };
}

/** Writes made during one `advanceTo` call. */
export interface WindowCounts {
  readonly inserted: TableCounts;
  readonly trackingUpdates: number;
  /** Write chunks (source transactions) applied. */
  readonly chunks: number;
}

export function countsBetween(
  before: GeneratorSummary,
  after: GeneratorSummary,
  chunks: number,
): WindowCounts {
  return {
    inserted: {
      ecs_order_info: after.inserted.ecs_order_info - before.inserted.ecs_order_info,
      uni_tracking_info: after.inserted.uni_tracking_info - before.inserted.uni_tracking_info,
      uni_tracking_spath: after.inserted.uni_tracking_spath - before.inserted.uni_tracking_spath,
    },
    trackingUpdates: after.trackingUpdates - before.trackingUpdates,
    chunks,
  };
}

/** The summary as short human-readable lines, for the demo's report. */
export function summaryLines(s: GeneratorSummary): string[] {
  const n = (x: number): string => x.toLocaleString('en-US');
  return [
    `ecs_order_info      ${n(s.inserted.ecs_order_info)} rows (${n(s.nullOrderIds.ecs_order_info)} with NULL order_id)`,
    `uni_tracking_info   ${n(s.inserted.uni_tracking_info)} rows, ${n(s.trackingUpdates)} in-place updates ` +
      `(${n(s.nullOrderIds.uni_tracking_info)} NULL order_id, ${n(s.futureTimestamps.uni_tracking_info)} future update_time)`,
    `uni_tracking_spath  ${n(s.inserted.uni_tracking_spath)} scans (${n(s.nullOrderIds.uni_tracking_spath)} NULL order_id, ` +
      `${n(s.lateScans)} uploaded late, ${n(s.futureTimestamps.uni_tracking_spath)} future pathTime)`,
    `orders              ${n(s.orders.created)} created, ${n(s.orders.delivered)} delivered, ` +
      `${n(s.orders.longLifecycle)} long-lifecycle, ${n(s.orders.reactivated)} reactivated, ` +
      `${n(s.orders.duplicateTracking)} with two tracking rows (${n(s.orders.tiedTracking)} tied)`,
  ];
}
