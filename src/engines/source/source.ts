import type { Column, CopyTextBatch, Row, Value } from '../types.js';

/** A half-open range of one integer cursor column: `from < column <= to` (`from` null: unbounded). */
export interface CursorRange {
  readonly column: string;
  readonly from: number | null;
  readonly to: number;
}

/**
 * A read of one source table inside one consistent snapshot (MySQL `START TRANSACTION WITH
 * CONSISTENT SNAPSHOT`, a SQLite read transaction): the count and the rows agree (SPEC §3 validate).
 */
export interface SourceSnapshot {
  count(table: string, range: CursorRange): Promise<number>;
  /** Streams rows in batches of at most `batchSize`, pausing the server while the consumer is busy. */
  stream(
    table: string,
    columns: readonly Column[],
    range: CursorRange,
    batchSize: number,
  ): AsyncIterable<readonly Row[]>;
  /**
   * The same rows as `stream`, each followed by the `append` values, as COPY text batches for a
   * warehouse that loads them as they are (`WarehouseConnection.loadCopyText`). Values hold what
   * `stream` would give; one holding U+0000 fails the read. Optional: a source that must parse
   * its values anyway (SQLite) leaves it out.
   */
  streamCopyText?(
    table: string,
    columns: readonly Column[],
    range: CursorRange,
    batchSize: number,
    append: readonly Value[],
  ): AsyncIterable<CopyTextBatch>;
  close(): Promise<void>;
}

export interface Source {
  /** The URL with its password redacted. */
  readonly displayUrl: string;
  /** Columns of a source table, in source order, or `null` if it does not exist. */
  describeTable(table: string): Promise<Column[] | null>;
  /** `max(column)` of a table, or `null` when it is empty. */
  max(table: string, column: string): Promise<number | null>;
  /** Opens a consistent snapshot on a session of its own; close it when done. */
  snapshot(): Promise<SourceSnapshot>;
  close(): Promise<void>;
}
