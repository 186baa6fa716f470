/** Row shapes of the three source tables (column names as in the source) and a write chunk. */

export interface TrackingRow {
  readonly id: number;
  readonly order_id: string | null;
  readonly tracking_no: string;
  readonly status: string;
  readonly carrier: string;
  readonly location: string;
  /** Epoch seconds. */
  readonly update_time: number;
}

export interface OrderRow {
  readonly id: number;
  readonly order_id: string | null;
  readonly partner_id: number | null;
  readonly customer_name: string;
  readonly destination: string;
  readonly weight_grams: number;
  /** Epoch seconds. */
  readonly add_time: number;
}

export interface ScanRow {
  readonly id: number;
  readonly order_id: string | null;
  readonly traceSeq: number;
  /** Epoch seconds. */
  readonly pathTime: number;
  readonly scan_site: string;
  readonly scan_type: string;
  readonly remark: string | null;
}

/**
 * Writes committed to the source in one transaction, all with `at` in [`fromAt`, `toAt`].
 *
 * Inserts carry explicit ids, assigned in insertion order as auto-increment would.
 * `uni_tracking_info` holds upserts: new rows and in-place updates of existing ids, at most one
 * entry per id (the latest state reached within the chunk).
 */
export interface WriteChunk {
  readonly fromAt: number;
  readonly toAt: number;
  readonly ecs_order_info: readonly OrderRow[];
  readonly uni_tracking_info: readonly TrackingRow[];
  readonly uni_tracking_spath: readonly ScanRow[];
}

/** Total number of rows in a chunk. */
export function chunkRowCount(chunk: WriteChunk): number {
  return chunk.ecs_order_info.length + chunk.uni_tracking_info.length + chunk.uni_tracking_spath.length;
}
