import type { Column, CopyTextBatch, Row, Value } from '../types.js';
import type { DayCount, DayCountSpec } from './range-sql.js';

/**
 * The rows of one extraction window: `from < column <= to` over an integer cursor column, exact
 * (`bigint`: ids past 2^53 are common). A `null` bound is open.
 *
 * `strays`, when given, adds the rows the column cannot place in any window (SPEC §3, §5): its
 * value NULL, or below `floor` (a time cursor's timestamps before the floor), read by their `id`
 * above `idAbove` (`null`: every one) instead.
 */
export interface CursorRange {
  readonly column: string;
  readonly from: bigint | null;
  readonly to: bigint | null;
  readonly strays?: { readonly floor: bigint | null; readonly idAbove: bigint | null };
}

/**
 * A read of one source table inside one consistent snapshot (MySQL `START TRANSACTION WITH
 * CONSISTENT SNAPSHOT`, a SQLite read transaction): the count and the rows agree (SPEC §3 validate).
 */
/** What a window holds at its top: the next watermark's makings (SPEC §3). */
export interface WindowMaxima {
  /** The greatest cursor value in the window's bounds, or `null` when none is there. */
  readonly max: bigint | null;
  /** The greatest id among the window's strays, or `null` (none, or it reads none). */
  readonly strayMax: bigint | null;
}

export interface SourceSnapshot {
  count(table: string, range: CursorRange): Promise<number>;
  /**
   * The window's maxima in the snapshot its rows were read in: what landed, without reading the
   * batch back. After `count`, which on MySQL must follow the stream directly.
   */
  maxima(table: string, range: CursorRange): Promise<WindowMaxima>;
  /**
   * Per UTC day in `[from, to)` of `spec.time`: keys whose newest version falls in the day, and
   * rows with a NULL key (SPEC §6 reconcile). Days with neither are left out.
   */
  dayCounts(table: string, spec: DayCountSpec): Promise<DayCount[]>;
  /** The ids of rows with a NULL key column in these days (each a day's start). */
  nullKeyIds(table: string, spec: DayCountSpec, days: readonly bigint[]): Promise<bigint[]>;
  /**
   * The rows with these ids (`id` column), `columns` only, in any order; ids absent from the
   * table are absent from the result (exceptions housekeeping, SPEC §6).
   */
  byIds(table: string, columns: readonly Column[], ids: readonly bigint[]): Promise<Row[]>;
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
   * `stream` would give, except that one the warehouse cannot hold (U+0000 in text, a zero date)
   * is written as NULL and reported in the batch's `quarantined`, as the row loaders do (SPEC §5).
   * Optional: a source that must parse its values anyway (SQLite) leaves it out.
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

/** Seconds a source read may get no data before it fails, unless configured (`sourceReadTimeoutSeconds`). */
export const DEFAULT_READ_TIMEOUT_SECONDS = 300;

/** How a source is opened for a run. */
export interface SourceOptions {
  /**
   * A read (or a statement) that gets no bytes from the server for this long fails, naming the
   * table, instead of holding the run and its lease (SPEC §7). Default `DEFAULT_READ_TIMEOUT_SECONDS`.
   */
  readonly readTimeoutSeconds?: number;
  /** Aborted when the run is stopping: reads waiting on the server fail at once. */
  readonly signal?: AbortSignal;
}

export interface Source {
  /** The URL with its password redacted. */
  readonly displayUrl: string;
  /** Columns of a source table, in source order, or `null` if it does not exist. */
  describeTable(table: string): Promise<Column[] | null>;
  /** `max(column)` of an integer column, exact, or `null` when the table is empty. */
  max(table: string, column: string): Promise<bigint | null>;
  /** The source server's clock, epoch seconds (`status` compares it with ours). */
  clock(): Promise<number>;
  /** Opens a consistent snapshot on a session of its own; close it when done. */
  snapshot(): Promise<SourceSnapshot>;
  /** Ends every session, failing reads still open (idempotent). */
  close(): Promise<void>;
}
