import type { Readable } from 'node:stream';
import { createConnection, type ConnectionOptions, type PoolConnection, type RowDataPacket } from 'mysql2';
import { bigintAsJson, type Column, type CopyTextBatch, type Row, type Value } from '../../types.js';
import type { CursorRange, SourceSnapshot, WindowMaxima } from '../source.js';
import { oneLineReason } from './mysql-connect.js';
import { CopyTextRowParser, UnloadableValue, type FieldInfo } from './mysql-copy-text.js';
import {
  dayCountsSql,
  mergeDayCounts,
  nullKeyIdsSql,
  type DayCount,
  type DayCountSpec,
} from '../range-sql.js';
import { countSql, maximaSql, quoteMysql, selectSql } from './mysql-sql.js';
import { answered, ResultWatch, sessionLost, socketOf } from './mysql-stream-watch.js';
import { normalizeMysqlRow } from './mysql-values.js';

/**
 * How long the server may wait on a paused stream. The extract pauses the server (TCP backpressure)
 * while the warehouse writes; MySQL's default `net_write_timeout` of 60 s would drop the session
 * under a slow load. One hour matches the extract task's timeout (SPEC §7).
 */
const netWriteTimeoutSeconds = 3600;

/** How long cancelling a statement (`KILL QUERY` from a session of its own) may hold a stop. */
const killWaitMs = 2_000;

/**
 * Cancels the statement the server runs for `threadId`, from a short session of its own opened
 * with `options`. Never fails and never waits past `killWaitMs`: the caller closes the socket anyway.
 */
const killQuery = async (options: ConnectionOptions, threadId: number): Promise<void> => {
  const killer = createConnection({ ...options, connectTimeout: killWaitMs });
  killer.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const killed = await Promise.race([
    new Promise<boolean>((resolve) => killer.query(`kill query ${threadId}`, (error) => resolve(!error))),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), killWaitMs))),
  ]);
  clearTimeout(timer);
  if (killed) killer.end(() => undefined);
  else {
    killer.destroy();
    // A pool's session or not, the socket sits in the same place; the driver's destroy() only ends it.
    socketOf(killer as PoolConnection)?.destroy();
  }
};

/**
 * Opens a consistent, read-only snapshot on `connection`. TIMESTAMP columns are read in UTC so the
 * values do not depend on the server's or the session's time zone. Each statement fails after
 * `timeoutMs` without an answer instead of waiting on a server that stopped talking.
 */
export const beginMysqlSnapshot = async (connection: PoolConnection, timeoutMs: number): Promise<void> => {
  const session = connection.promise();
  const run = (sql: string) => answered(connection, timeoutMs, () => session.query(sql));
  // `sql_select_limit` at its maximum: a server default below it would cut the stream short,
  // and `FOUND_ROWS()`, the count validate checks the rows against, with it.
  await run(
    `set session time_zone = '+00:00', session net_write_timeout = ${netWriteTimeoutSeconds}, session sql_select_limit = 18446744073709551615`,
  );
  // `SET SESSION TRANSACTION`, not the variable: it is `tx_isolation` on MariaDB 10.x and
  // `transaction_isolation` on MySQL 8.
  await run('set session transaction isolation level repeatable read');
  await run('start transaction with consistent snapshot, read only');
};

/** How a snapshot reports, and how long it waits on a silent server. */
export interface MysqlSnapshotOptions {
  /** The source URL with its password redacted. */
  readonly displayUrl: string;
  /** Masked out of the driver's messages. */
  readonly password: string;
  /** A statement or a read that gets no bytes for this long fails (`sourceReadTimeoutSeconds`). */
  readonly readTimeoutMs: number;
  /** Called when the snapshot is closed or its session is gone (possibly more than once). */
  readonly onEnd?: () => void;
  /** How to open the short session that cancels a statement in flight; none: no cancel. */
  readonly connectOptions?: ConnectionOptions;
}

/** Whether the session is unusable after `error`: its connection is gone. */
const breaks = (error: unknown): boolean => (error as { fatal?: unknown } | null)?.fatal === true;

const ignoreError = (): void => undefined;

type State = 'idle' | 'busy' | 'closed' | 'broken';

const windowKey = (table: string, range: CursorRange): string => JSON.stringify([table, range], bigintAsJson);

type Query = ReturnType<PoolConnection['query']>;

/** A row from `CopyTextRowParser`: its bytes, or the value that cannot be loaded. */
const toRowText = (raw: unknown): Buffer => {
  if (Buffer.isBuffer(raw)) return raw;
  if (raw instanceof UnloadableValue) throw raw;
  // The driver parsed the row itself: a mysql2 release no longer builds `_rowParser` as read here.
  throw new UnloadableValue(
    'the MySQL driver no longer lets rows be read as text (mysql2 changed how it parses rows; see mysql-copy-text.ts)',
  );
};

/**
 * Gathers the driver's rows into batches from its `data` events, pausing the stream (and, past its
 * high-water mark, the socket) while a full batch waits for the consumer. One await per batch
 * rather than one per row: async iteration of the row stream cost about a third of the reader's
 * time. `reading.failed` is set when the stream itself reports the error.
 */
async function* collectBatches<T>(
  rows: Readable,
  batchSize: number,
  convert: (raw: unknown) => T,
  reading: { failed: boolean },
  watch: ResultWatch,
): AsyncGenerator<T[]> {
  const full: T[][] = [];
  let batch: T[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (raw: unknown): void => {
    if (failure !== undefined) return;
    try {
      batch.push(convert(raw));
    } catch (error) {
      // Thrown inside the driver's push it would reach the connection, not this stream, and the
      // reader would wait forever: fail the read here instead (the caller abandons the session).
      failure = error;
      rows.pause();
      signal();
      return;
    }
    if (batch.length === batchSize) {
      full.push(batch);
      batch = [];
      rows.pause();
      signal();
    }
  };
  const onError = (error: unknown): void => {
    reading.failed = true;
    failure ??= error;
    signal();
  };
  const onEnd = (): void => {
    // The driver's stream also ends when it is destroyed mid-result: only the final packet counts.
    if (!watch.complete) return onError(sessionLost('the result ended before its last row'));
    ended = true;
    signal();
  };
  rows.on('data', onData);
  rows.once('end', onEnd);
  rows.on('error', onError);
  watch.start(onError);
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const next = full.shift();
      if (next) {
        yield next;
        if (full.length === 0 && !ended) rows.resume();
        continue;
      }
      if (ended) {
        if (batch.length > 0) yield batch;
        return;
      }
      watch.waiting(true);
      await new Promise<void>((resolve) => (wake = resolve));
      watch.waiting(false);
    }
  } finally {
    watch.stop();
    rows.off('data', onData);
    rows.off('end', onEnd);
    // Still listening: an error the stream reports after this (the caller abandoning it closes the
    // socket under it) must not go unhandled.
    rows.off('error', onError);
    rows.on('error', () => undefined);
  }
}

/**
 * One `START TRANSACTION WITH CONSISTENT SNAPSHOT` on a session of its own (SPEC §3 validate: the
 * count and the extract read the same data). One statement runs at a time: a count or a second
 * stream started while a stream is still open fails instead of queueing behind it.
 */
export class MysqlSnapshot implements SourceSnapshot {
  #state: State = 'idle';
  /** The window of the session's last statement when that was a stream read to its end. */
  #streamed: string | undefined;
  /** The stream in progress, if any: `interrupt` fails it. */
  #watch: ResultWatch | undefined;
  private readonly displayUrl: string;
  private readonly password: string;

  constructor(
    private readonly connection: PoolConnection,
    private readonly options: MysqlSnapshotOptions,
  ) {
    this.displayUrl = options.displayUrl;
    this.password = options.password;
    // mysql2 may report a lost session to the connection more than once; the pool listens only once.
    connection.on('error', ignoreError);
  }

  /**
   * Right after a stream of the same window read to its end, the server's own count of the rows
   * that SELECT returned (`FOUND_ROWS()`: the same statement, so the same snapshot) instead of a
   * second read of the window: `count(*)` scans the clustered index again, a noticeable part of an
   * initial extract. (MySQL 8.0.17 deprecates `FOUND_ROWS()` and still has it.)
   */
  async count(table: string, range: CursorRange): Promise<number> {
    const streamed = this.#streamed === windowKey(table, range);
    this.enter(`count ${table}`);
    const { sql, values } = streamed
      ? { sql: 'select found_rows() as n', values: [] }
      : countSql(table, range);
    try {
      const [rows] = await answered(this.connection, this.options.readTimeoutMs, () =>
        this.connection.promise().query<RowDataPacket[]>(sql, values),
      );
      this.#state = 'idle';
      return Number(rows[0]?.['n'] ?? 0);
    } catch (error) {
      throw this.failed(`counting ${table}`, error);
    }
  }

  async maxima(table: string, range: CursorRange): Promise<WindowMaxima> {
    this.enter(`maxima ${table}`);
    const { sql, values } = maximaSql(table, range);
    try {
      const [rows] = await answered(this.connection, this.options.readTimeoutMs, () =>
        this.connection.promise().query<RowDataPacket[]>(sql, values),
      );
      this.#state = 'idle';
      const exact = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(String(v)));
      return { max: exact(rows[0]?.['m']), strayMax: exact(rows[0]?.['s']) };
    } catch (error) {
      throw this.failed(`reading the greatest ${range.column} of ${table}`, error);
    }
  }

  async dayCounts(table: string, spec: DayCountSpec): Promise<DayCount[]> {
    const { keyed, nulls } = dayCountsSql(table, spec, quoteMysql, true);
    const exact = (v: unknown): bigint => BigInt(String(v));
    this.enter(`count ${table} per day`);
    try {
      const counted = (await this.select(keyed)).map((r) => ({
        day: exact(r['day']),
        n: Number(r['n']),
        s: r['s'] === null ? null : exact(r['s']),
        nulls: Number(r['nulls'] ?? 0),
      }));
      const nullDays = nulls ? await this.select(nulls) : [];
      this.#state = 'idle';
      return mergeDayCounts(
        counted,
        nullDays.map((r) => ({ day: exact(r['day']), n: Number(r['n']) })),
      );
    } catch (error) {
      throw this.failed(`counting ${table} per day of ${spec.time}`, error);
    }
  }

  async nullKeyIds(table: string, spec: DayCountSpec, days: readonly bigint[]): Promise<bigint[]> {
    if (days.length === 0) return [];
    this.enter(`read ${table}'s NULL keys`);
    try {
      const rows = await this.select(nullKeyIdsSql(table, spec, days, quoteMysql));
      this.#state = 'idle';
      return rows.map((r) => BigInt(String(r['id'])));
    } catch (error) {
      throw this.failed(`reading ${table}'s NULL keys`, error);
    }
  }

  /** One statement's rows, failing after the read timeout without an answer. */
  private async select(p: { sql: string; values: bigint[] }): Promise<RowDataPacket[]> {
    const [rows] = await answered(this.connection, this.options.readTimeoutMs, () =>
      this.connection.promise().query<RowDataPacket[]>(p.sql, p.values),
    );
    return rows;
  }

  async byIds(table: string, columns: readonly Column[], ids: readonly bigint[]): Promise<Row[]> {
    if (ids.length === 0) return [];
    this.enter(`read ${table} by id`);
    const list = columns.map((c) => quoteMysql(c.sourceName)).join(', ');
    const sql = `select ${list} from ${quoteMysql(table)} where ${quoteMysql('id')} in (${ids.map(() => '?').join(', ')})`;
    try {
      const [rows] = await answered(this.connection, this.options.readTimeoutMs, () =>
        this.connection.promise().query<RowDataPacket[]>({ sql, values: [...ids], rowsAsArray: true }),
      );
      this.#state = 'idle';
      return (rows as unknown as unknown[][]).map((raw) => normalizeMysqlRow(raw, columns));
    } catch (error) {
      throw this.failed(`reading ${table} by id`, error);
    }
  }

  stream(
    table: string,
    columns: readonly Column[],
    range: CursorRange,
    batchSize: number,
  ): AsyncGenerator<readonly Row[]> {
    return this.read(table, columns, range, batchSize, (raw) => normalizeMysqlRow(raw as unknown[], columns));
  }

  /**
   * The rows as COPY text, written from the wire by `CopyTextRowParser` in place of the driver's
   * row parser (which would decode every value to a JS string or number first).
   */
  async *streamCopyText(
    table: string,
    columns: readonly Column[],
    range: CursorRange,
    batchSize: number,
    append: readonly Value[],
  ): AsyncGenerator<CopyTextBatch> {
    // Kept past the driver's reset, for the values it quarantined in the last rows.
    let written: CopyTextRowParser | undefined;
    const rows = this.read(table, columns, range, batchSize, toRowText, (query) => {
      let fields: readonly FieldInfo[] = [];
      let parser: CopyTextRowParser | undefined;
      query.once('fields', (f: readonly FieldInfo[]) => (fields = f));
      // mysql2 builds its parser right after 'fields' and calls `_rowParser.next(packet)` per row.
      Object.defineProperty(query, '_rowParser', {
        configurable: true,
        get: () => parser,
        set: (driverParser: unknown) => {
          parser = driverParser ? (written = new CopyTextRowParser(fields, columns, append)) : undefined;
        },
      });
    });
    for await (const batch of rows)
      yield { rows: batch.length, text: Buffer.concat(batch), quarantined: written?.takeQuarantined() };
  }

  private async *read<T>(
    table: string,
    columns: readonly Column[],
    range: CursorRange,
    batchSize: number,
    convert: (raw: unknown) => T,
    prepare?: (query: Query) => void,
  ): AsyncGenerator<T[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    if (columns.length === 0) throw new RangeError(`stream of ${table} names no columns`);
    this.enter(`stream ${table}`);
    const { sql, values } = selectSql(
      table,
      columns.map((c) => c.sourceName),
      range,
    );
    const query = this.connection.query({ sql, values, rowsAsArray: true });
    const watch = new ResultWatch(this.connection, query, this.options.readTimeoutMs);
    this.#watch = watch;
    prepare?.(query);
    // The driver pauses the socket once this many rows wait unread: memory stays ~2 batches.
    const rows = query.stream({ highWaterMark: batchSize });
    const reading = { failed: false };
    // Once: the consumer may run its next statement while the last batch is in its hands.
    let done = false;
    const ended = (): void => {
      if (done) return;
      done = true;
      this.#state = 'idle';
      this.#streamed = windowKey(table, range);
    };
    try {
      for await (const batch of collectBatches(rows, batchSize, convert, reading, watch)) {
        if (rows.readableEnded) ended();
        yield batch;
      }
      ended();
    } catch (error) {
      if (rows.errored || reading.failed) throw this.failed(`reading ${table}`, error);
      // The session is still mid-result: `finally` ends it.
      if (error instanceof UnloadableValue)
        throw new Error(`reading ${table} from source ${this.displayUrl} failed: ${error.message}`, {
          cause: error,
        });
      throw error;
    } finally {
      if (this.#watch === watch) this.#watch = undefined;
      if (this.#state === 'busy') {
        if (rows.readableEnded && !rows.errored) ended();
        else if (rows.errored) this.#state = 'idle';
        // The consumer stopped early (break, throw, return): the server is mid-result and blocked
        // on a paused socket. Draining could mean millions of rows, so end the session instead.
        else this.abandon(rows, query);
      }
    }
  }

  /** Commits the read-only transaction and returns the session to the pool. Idempotent. */
  async close(): Promise<void> {
    const state = this.#state;
    if (state === 'closed' || state === 'broken') return;
    if (state === 'busy') return this.interrupt('the snapshot was closed while it was reading');
    this.#state = 'closed';
    try {
      await answered(this.connection, this.options.readTimeoutMs, () =>
        this.connection.promise().query('commit'),
      );
      this.connection.off('error', ignoreError);
      this.connection.release();
    } catch {
      // Nothing was written: a failed commit of a read-only snapshot loses nothing.
      this.destroy();
    }
    this.options.onEnd?.();
  }

  /**
   * Ends the session at once (the source is closing, the run is stopping): a read in progress fails
   * with `reason`, a statement in flight with the lost connection. Resolves once the socket is
   * closed, so the pool no longer counts the session.
   */
  async interrupt(reason: string): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'broken') return;
    // Closing our socket alone leaves a server busy producing rows its thread and read view.
    const cancelled = this.cancel();
    this.#state = 'broken';
    this.#watch?.fail(sessionLost(reason));
    const socket = socketOf(this.connection);
    // The socket only, not the driver's `destroy()`: the driver then reports the lost connection to
    // a statement in flight instead of leaving it waiting.
    if (socket && !socket.destroyed)
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    await cancelled;
    this.destroy();
  }

  private enter(what: string): void {
    if (this.#state === 'busy')
      throw new Error(
        `cannot ${what} on source ${this.displayUrl}: this snapshot is still streaming; finish or break the stream first`,
      );
    if (this.#state !== 'idle')
      throw new Error(
        `cannot ${what} on source ${this.displayUrl}: the snapshot is ${this.#state === 'closed' ? 'closed' : 'gone (an earlier stream was abandoned or the session failed)'}`,
      );
    this.#state = 'busy';
    this.#streamed = undefined;
  }

  private failed(what: string, error: unknown): Error {
    if (this.#state === 'broken' || breaks(error)) {
      this.#state = 'broken';
      this.destroy();
    } else {
      this.#state = 'idle';
    }
    return new Error(
      `${what} from source ${this.displayUrl} failed: ${oneLineReason(error, this.password)}`,
      {
        cause: error,
      },
    );
  }

  private abandon(rows: NodeJS.EventEmitter, query: NodeJS.EventEmitter): void {
    void this.cancel(); // as in `interrupt`: the server would keep producing rows for nobody
    this.#state = 'broken';
    // Closing the socket under a running query makes the driver report it lost; nobody listens now.
    const ignore = (): void => {};
    rows.on('error', ignore);
    query.on('error', ignore);
    this.destroy();
  }

  /** Cancels the statement in flight, if any, on the server (`KILL QUERY` from another session). */
  private cancel(): Promise<void> {
    const options = this.options.connectOptions;
    if (this.#state !== 'busy' || !options) return Promise.resolve();
    return killQuery(options, this.connection.threadId);
  }

  private destroy(): void {
    // mysql2's destroy() only half-closes the socket (FIN); the server, blocked writing to it,
    // would keep the thread and its read view until net_write_timeout. Close it outright.
    const socket = socketOf(this.connection);
    this.connection.destroy();
    socket?.destroy();
    this.options.onEnd?.();
  }
}
