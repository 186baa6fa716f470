import type pg from 'pg';
import type { Column, CopyTextBatch, Row, Value } from '../../types.js';
import type { LoadResult, ResultRow, WarehouseConnection } from '../warehouse.js';
import { postgresDialect } from './postgres-dialect.js';
import { copyInto, copyTextInto } from './postgres-loader.js';

/** Cancels the statement running on backend `pid`, from a session other than that one. */
export type CancelBackend = (pid: number) => Promise<void>;

/** pg's result for one statement, or one per statement when the SQL text holds several. */
type Results = pg.QueryResult | pg.QueryResult[];

/**
 * A unique violation's message with the server's DETAIL appended: the key and its values
 * (`Key (pathtime, order_id, traceseq)=(…) is duplicated.`). The message alone names only the
 * index, and a run's error is one line; other errors pass unchanged.
 */
const withKeyDetail = (error: unknown): unknown => {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  if (error instanceof Error && code === '23505' && typeof detail === 'string' && detail)
    error.message = `${error.message}: ${detail.replace(/\s*\n\s*/g, ' ')}`;
  return error;
};

/**
 * One pooled session. One caller at a time: statements are not meant to overlap (pg would queue
 * them, but `transaction` and `cancel` assume a single line of work).
 *
 * Nested `transaction` calls use SAVEPOINTs: an inner call that throws undoes only its own work, and
 * the outer transaction may catch the error and go on; the outermost call commits or rolls back.
 */
export class PostgresConnection implements WarehouseConnection {
  private depth = 0;
  private running = 0;
  /** Set when the session can no longer be trusted (connection error, failed ROLLBACK). */
  private broken: Error | undefined;
  private released = false;
  /** Aborts the running load, if any (see `cancel`). */
  private loadAbort: AbortController | undefined;
  /** The cancel request in flight: statements wait for it, so it cannot hit the next one. */
  private cancelling: Promise<void> | undefined;
  private readonly onError = (error: Error) => (this.broken ??= error);

  constructor(
    private readonly client: pg.PoolClient,
    /** Backend pid (`pg_backend_pid()`), recorded at connect for `cancel`. */
    readonly pid: number,
    private readonly cancelBackend: CancelBackend,
  ) {
    // A checked-out client has no pool listener: without ours, a dropped connection would crash.
    client.on('error', this.onError);
  }

  async query<T extends ResultRow = ResultRow>(sql: string, params: readonly Value[] = []): Promise<T[]> {
    const results = await this.run(sql, params);
    const last = Array.isArray(results) ? results[results.length - 1] : results;
    return (last?.rows ?? []) as T[];
  }

  async execute(sql: string, params: readonly Value[] = []): Promise<number> {
    const results = await this.run(sql, params);
    return (Array.isArray(results) ? results : [results]).reduce((sum, r) => sum + (r.rowCount ?? 0), 0);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.depth === 0 ? this.outer(fn) : this.nested(fn);
  }

  load(
    schema: string,
    table: string,
    columns: readonly Column[],
    rows: AsyncIterable<readonly Row[]>,
  ): Promise<LoadResult> {
    return this.copying((signal) =>
      copyInto(this.client, postgresDialect, schema, table, columns, rows, signal),
    );
  }

  loadCopyText(
    schema: string,
    table: string,
    columns: readonly Column[],
    batches: AsyncIterable<CopyTextBatch>,
  ): Promise<LoadResult> {
    return this.copying((signal) =>
      copyTextInto(this.client, postgresDialect, schema, table, columns, batches, signal),
    );
  }

  private async copying(copy: (signal: AbortSignal) => Promise<LoadResult>): Promise<LoadResult> {
    await this.settleCancel();
    const abort = new AbortController();
    this.loadAbort = abort;
    this.running++;
    try {
      return await copy(abort.signal);
    } catch (error) {
      // The caller's next statement must not start before the cancel request is through.
      await this.settleCancel();
      throw error;
    } finally {
      this.running--;
      if (this.loadAbort === abort) this.loadAbort = undefined;
    }
  }

  /**
   * Stops this session's running statement: `pg_cancel_backend` from another session, and for a
   * load also CopyFail. The statement's promise rejects with "canceling statement due to user
   * request". Does nothing when no statement is running, and the session's next statement waits
   * until the cancel request is through, so a late cancel can never hit it.
   */
  async cancel(): Promise<void> {
    if (this.running === 0 || this.released) return;
    this.loadAbort?.abort();
    const request = this.cancelBackend(this.pid);
    const settled = request.catch(() => undefined);
    this.cancelling = settled;
    try {
      await request;
    } finally {
      if (this.cancelling === settled) this.cancelling = undefined;
    }
  }

  /**
   * Returns the session to the pool, or closes it when it is broken or still busy (a statement
   * abandoned after a timeout): a pooled session must be idle and outside any transaction.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.client.off('error', this.onError);
    const discard = this.broken ?? (this.running > 0 || this.depth > 0 ? true : undefined);
    this.client.release(discard);
  }

  private async run(sql: string, params: readonly Value[]): Promise<Results> {
    if (this.released) throw new Error('this warehouse session was already released');
    await this.settleCancel();
    this.running++;
    try {
      // pg's typings say one result; with several statements in `sql` it returns one per statement.
      return (await this.client.query(sql, params.length > 0 ? [...params] : undefined)) as Results;
    } catch (error) {
      throw withKeyDetail(error);
    } finally {
      this.running--;
    }
  }

  private async settleCancel(): Promise<void> {
    if (this.cancelling) await this.cancelling;
  }

  private async outer<T>(fn: () => Promise<T>): Promise<T> {
    await this.run('begin', []);
    this.depth = 1;
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      this.depth = 0;
      await this.run('rollback', []).catch((rollbackError: Error) => (this.broken ??= rollbackError));
      throw error;
    }
    this.depth = 0;
    const commit = await this.run('commit', []);
    // COMMIT of a transaction in which a statement failed (and `fn` swallowed the error) does not
    // raise: the server answers ROLLBACK. Silently losing the work would be worse than failing.
    if (!Array.isArray(commit) && commit.command === 'ROLLBACK')
      throw new Error(
        'the transaction was rolled back because a statement inside it failed; nothing it wrote was kept',
      );
    return result;
  }

  private async nested<T>(fn: () => Promise<T>): Promise<T> {
    const savepoint = `ot_savepoint_${this.depth}`;
    await this.run(`savepoint ${savepoint}`, []);
    this.depth++;
    try {
      const result = await fn();
      await this.run(`release savepoint ${savepoint}`, []);
      return result;
    } catch (error) {
      try {
        await this.run(`rollback to savepoint ${savepoint}`, []);
        await this.run(`release savepoint ${savepoint}`, []);
      } catch (undoError) {
        this.broken ??= undoError instanceof Error ? undoError : new Error(String(undoError));
      }
      throw error;
    } finally {
      this.depth--;
    }
  }
}
