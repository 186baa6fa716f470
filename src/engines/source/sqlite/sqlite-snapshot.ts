import Database from 'better-sqlite3';
import type { Column, Row } from '../../types.js';
import type { CursorRange, SourceSnapshot, WindowMaxima } from '../source.js';
import {
  dayCountsSql,
  mergeDayCounts,
  nullKeyIdsSql,
  type DayCount,
  type DayCountSpec,
} from '../range-sql.js';
import { countSql, maximaSql, quoteSqlite, selectSql } from './sqlite-sql.js';
import { normalizeSqliteRow, sqliteInteger } from './sqlite-values.js';

type State = 'idle' | 'busy' | 'closed';

/** Opens a handle on `path`; `fileMustExist` so a vanished file is an error, never a new empty one. */
export const openSqliteHandle = (path: string): Database.Database =>
  new Database(path, { fileMustExist: true, timeout: 5_000 });

/**
 * A read transaction on a handle of its own. In WAL mode (what the writer sets) it sees the file as
 * of its first read while writers carry on; in rollback-journal mode it holds a shared lock, so
 * writers wait (up to their busy timeout) until it closes. Either way count and stream agree.
 */
export class SqliteSnapshot implements SourceSnapshot {
  #state: State = 'idle';
  /** Per table and cursor column: whether it can hold NULL (a stray), read once per snapshot. */
  readonly #nullable = new Map<string, boolean>();

  private constructor(
    private readonly db: Database.Database,
    private readonly displayUrl: string,
  ) {}

  static open(path: string, displayUrl: string): SqliteSnapshot {
    const db = openSqliteHandle(path);
    try {
      db.exec('begin');
      // A deferred transaction takes its snapshot at the first read, not at BEGIN.
      db.prepare('select count(*) from sqlite_master').pluck().get();
    } catch (error) {
      db.close();
      throw new Error(`opening a snapshot of source ${displayUrl} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new SqliteSnapshot(db, displayUrl);
  }

  async count(table: string, range: CursorRange): Promise<number> {
    this.enter(`count ${table}`);
    try {
      const { sql, values } = countSql(table, range, this.nullable(table, range));
      const n = this.db
        .prepare(sql)
        .pluck()
        .safeIntegers(true)
        .get(...values) as bigint;
      return Number(n);
    } catch (error) {
      throw this.failed(`counting ${table}`, error);
    } finally {
      this.#state = 'idle';
    }
  }

  async maxima(table: string, range: CursorRange): Promise<WindowMaxima> {
    this.enter(`maxima ${table}`);
    const what = `reading the greatest ${range.column} of ${table}`;
    try {
      const { sql, values } = maximaSql(table, range, this.nullable(table, range));
      const row = this.db
        .prepare(sql)
        .safeIntegers(true)
        .get(...values) as { m: unknown; s: unknown };
      const [max, strayMax] = [sqliteInteger(row.m), sqliteInteger(row.s)];
      if (max === undefined || strayMax === undefined)
        throw new Error(
          `the greatest value, ${JSON.stringify(String(max === undefined ? row.m : row.s)).slice(0, 40)}, is not an integer`,
        );
      return { max, strayMax };
    } catch (error) {
      throw this.failed(what, error);
    } finally {
      this.#state = 'idle';
    }
  }

  async dayCounts(table: string, spec: DayCountSpec): Promise<DayCount[]> {
    this.enter(`count ${table} per day`);
    try {
      const { keyed, nulls } = dayCountsSql(table, spec, quoteSqlite, false);
      const counted = this.all(keyed).map((r) => ({
        day: BigInt(r.day as bigint),
        n: Number(r.n),
        s: r.s === null || r.s === undefined ? null : BigInt(r.s as bigint),
      }));
      const nullDays = nulls
        ? this.all(nulls).map((r) => ({ day: BigInt(r.day as bigint), n: Number(r.n) }))
        : [];
      return mergeDayCounts(counted, nullDays);
    } catch (error) {
      throw this.failed(`counting ${table} per day of ${spec.time}`, error);
    } finally {
      this.#state = 'idle';
    }
  }

  async nullKeyIds(table: string, spec: DayCountSpec, days: readonly bigint[]): Promise<bigint[]> {
    if (days.length === 0) return [];
    this.enter(`read ${table}'s NULL keys`);
    try {
      return this.all(nullKeyIdsSql(table, spec, days, quoteSqlite)).map((r) => BigInt(r.id as bigint));
    } catch (error) {
      throw this.failed(`reading ${table}'s NULL keys`, error);
    } finally {
      this.#state = 'idle';
    }
  }

  /**
   * Whether the window's cursor column can hold NULL (`sqliteStrays`: only then is `is null` a
   * stray term). Assumed so where it has no strays to read, or the table does not declare it.
   */
  private nullable(table: string, range: CursorRange): boolean {
    if (!range.strays) return true;
    const key = `${table}\u0000${range.column}`;
    let nullable = this.#nullable.get(key);
    if (nullable === undefined) {
      const notNull = this.db
        .prepare('select "notnull" from pragma_table_info(?) where lower(name) = lower(?)')
        .pluck()
        .get(table, range.column) as number | undefined;
      nullable = notNull !== 1;
      this.#nullable.set(key, nullable);
    }
    return nullable;
  }

  /** A statement's rows, integers exact. */
  private all(p: { sql: string; values: bigint[] }): Record<string, unknown>[] {
    return this.db
      .prepare(p.sql)
      .safeIntegers(true)
      .all(...p.values) as Record<string, unknown>[];
  }

  async byIds(table: string, columns: readonly Column[], ids: readonly bigint[]): Promise<Row[]> {
    if (ids.length === 0) return [];
    this.enter(`read ${table} by id`);
    try {
      const list = columns.map((c) => quoteSqlite(c.sourceName)).join(', ');
      const rows = this.db
        .prepare(
          `select ${list} from ${quoteSqlite(table)} where ${quoteSqlite('id')} in (${ids.map(() => '?').join(', ')})`,
        )
        .raw(true)
        .safeIntegers(true)
        .all(...ids) as unknown[][];
      return rows.map((raw) => normalizeSqliteRow(raw, columns));
    } catch (error) {
      throw this.failed(`reading ${table} by id`, error);
    } finally {
      this.#state = 'idle';
    }
  }

  async *stream(
    table: string,
    columns: readonly Column[],
    range: CursorRange,
    batchSize: number,
  ): AsyncGenerator<readonly Row[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    if (columns.length === 0) throw new RangeError(`stream of ${table} names no columns`);
    this.enter(`stream ${table}`);
    let rows: IterableIterator<unknown[]> | undefined;
    let exhausted = false;
    try {
      try {
        const { sql, values } = selectSql(
          table,
          columns.map((c) => c.sourceName),
          range,
          this.nullable(table, range),
        );
        rows = this.db
          .prepare(sql)
          .raw(true)
          .safeIntegers(true)
          .iterate(...values) as IterableIterator<unknown[]>;
      } catch (error) {
        throw this.failed(`reading ${table}`, error);
      }
      while (!exhausted) {
        const batch: Row[] = [];
        while (batch.length < batchSize) {
          let next: IteratorResult<unknown[]>;
          try {
            next = rows.next();
          } catch (error) {
            exhausted = true; // a failed step resets the statement
            throw this.failed(`reading ${table}`, error);
          }
          if (next.done) {
            exhausted = true;
            break;
          }
          batch.push(normalizeSqliteRow(next.value, columns));
        }
        if (exhausted) this.#state = 'idle';
        if (batch.length > 0) yield batch;
        // better-sqlite3 reads synchronously and the consumer may never wait on I/O (DuckDB's
        // appender): without this the whole load is one macrotask, and timers (a task's timeout),
        // signals and other work wait until it ends, a minute for a large initial load.
        if (!exhausted) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      // An open iterator keeps the statement (and the handle) busy; COMMIT would fail behind it.
      if (!exhausted) rows?.return?.();
      if (this.#state === 'busy') this.#state = 'idle';
    }
  }

  /** Ends the read transaction and closes the handle. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    try {
      if (this.db.inTransaction) this.db.exec('commit');
    } finally {
      this.db.close();
    }
  }

  private enter(what: string): void {
    if (this.#state === 'busy')
      throw new Error(
        `cannot ${what} on source ${this.displayUrl}: this snapshot is still streaming; finish or break the stream first`,
      );
    if (this.#state === 'closed')
      throw new Error(`cannot ${what} on source ${this.displayUrl}: the snapshot is closed`);
    this.#state = 'busy';
  }

  private failed(what: string, error: unknown): Error {
    const reason = error instanceof Error ? error.message : String(error);
    return new Error(`${what} from source ${this.displayUrl} failed: ${reason}`, { cause: error });
  }
}
