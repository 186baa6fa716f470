import type { OrderRow, ScanRow, SourceWriter, TrackingRow, WriteChunk } from '../../src/generator/index.js';

/** A row with the `at` of the chunk that wrote it (exact when chunkRows is 1). */
export interface Written<R> {
  readonly at: number;
  readonly row: R;
}

/** Keeps every write in memory: for small runs only. */
export class RecordingWriter implements SourceWriter {
  readonly chunks: { fromAt: number; toAt: number; rows: number }[] = [];
  readonly orders: Written<OrderRow>[] = [];
  readonly trackingWrites: Written<TrackingRow>[] = [];
  readonly scans: Written<ScanRow>[] = [];
  /** Final state of uni_tracking_info by id. */
  readonly tracking = new Map<number, TrackingRow>();

  createTables(): Promise<void> {
    return Promise.resolve();
  }

  apply(chunk: WriteChunk): Promise<void> {
    const at = chunk.toAt;
    this.chunks.push({
      fromAt: chunk.fromAt,
      toAt: chunk.toAt,
      rows: chunk.ecs_order_info.length + chunk.uni_tracking_info.length + chunk.uni_tracking_spath.length,
    });
    for (const row of chunk.ecs_order_info) this.orders.push({ at, row });
    for (const row of chunk.uni_tracking_info) {
      this.trackingWrites.push({ at, row });
      this.tracking.set(row.id, row);
    }
    for (const row of chunk.uni_tracking_spath) this.scans.push({ at, row });
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Counts rows and keeps nothing: for large runs. */
export class CountingWriter implements SourceWriter {
  chunks = 0;
  rows = 0;
  maxChunkRows = 0;
  readonly onChunk: (chunk: WriteChunk) => void;

  constructor(onChunk: (chunk: WriteChunk) => void = () => undefined) {
    this.onChunk = onChunk;
  }

  createTables(): Promise<void> {
    return Promise.resolve();
  }

  apply(chunk: WriteChunk): Promise<void> {
    const rows =
      chunk.ecs_order_info.length + chunk.uni_tracking_info.length + chunk.uni_tracking_spath.length;
    this.chunks++;
    this.rows += rows;
    this.maxChunkRows = Math.max(this.maxChunkRows, rows);
    this.onChunk(chunk);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export const DAY = 86_400;
export const HOUR = 3_600;
/** 2025-01-01T00:00:00Z */
export const JAN_2025 = Date.UTC(2025, 0, 1) / 1000;
