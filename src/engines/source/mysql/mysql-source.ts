import {
  createPool,
  type ConnectionOptions,
  type Pool,
  type PoolConnection,
  type RowDataPacket,
} from 'mysql2';
import { redact } from '../../../config/urls.js';
import type { Column } from '../../types.js';
import {
  DEFAULT_READ_TIMEOUT_SECONDS,
  type Source,
  type SourceOptions,
  type SourceSnapshot,
} from '../source.js';
import { mysqlPoolOptions, oneLineReason, openFailure } from './mysql-connect.js';
import { beginMysqlSnapshot, MysqlSnapshot } from './mysql-snapshot.js';
import { describeColumnsSql, quoteMysql } from './mysql-sql.js';
import { answered, socketOf } from './mysql-stream-watch.js';
import { mysqlLogicalType } from './mysql-types.js';

/** How long closing waits for the pool's sessions to say goodbye before it closes their sockets. */
const closeWaitMs = 5_000;

const getConnection = (pool: Pool): Promise<PoolConnection> =>
  new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection)));
  });

const isFatal = (error: unknown): boolean => (error as { fatal?: unknown } | null)?.fatal === true;

const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

class MysqlSource implements Source {
  private readonly session;
  readonly #snapshots = new Set<MysqlSnapshot>();
  /** Every session the pool opened: closing ends any still stuck behind a silent server. */
  readonly #connections = new Set<PoolConnection>();
  readonly #readTimeoutMs: number;
  readonly #onStop: () => void;
  #closing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    readonly displayUrl: string,
    private readonly password: string,
    private readonly options: SourceOptions,
    /** The pool's own connection options, for the session that cancels a statement (`KILL QUERY`). */
    private readonly connectOptions: ConnectionOptions,
  ) {
    this.session = pool.promise();
    this.#readTimeoutMs = (options.readTimeoutSeconds ?? DEFAULT_READ_TIMEOUT_SECONDS) * 1000;
    pool.on('connection', (connection) => this.#connections.add(connection));
    // The run is stopping: a read waiting on the server fails now rather than at its next batch.
    this.#onStop = () => void this.interruptAll('the run is stopping');
    options.signal?.addEventListener('abort', this.#onStop, { once: true });
  }

  async describeTable(table: string): Promise<Column[] | null> {
    const rows = await this.query(`describing ${table}`, describeColumnsSql, [table]);
    if (rows.length === 0) return null;
    return rows.map((row) => {
      const sourceName = String(row['name']);
      return {
        name: sourceName.toLowerCase(),
        sourceName,
        type: mysqlLogicalType({
          dataType: String(row['dataType']),
          columnType: String(row['columnType']),
          charLength: numberOrNull(row['charLength']),
          numericPrecision: numberOrNull(row['numericPrecision']),
          numericScale: numberOrNull(row['numericScale']),
        }),
      };
    });
  }

  async max(table: string, column: string): Promise<bigint | null> {
    // As text: a JS number would round an id past 2^53.
    const rows = await this.query(
      `reading max(${column}) of ${table}`,
      `select cast(max(${quoteMysql(column)}) as char) as m from ${quoteMysql(table)}`,
    );
    const m = rows[0]?.['m'];
    return m === null || m === undefined ? null : BigInt(String(m));
  }

  async clock(): Promise<number> {
    const [rows] = await this.run('reading the clock', () =>
      this.session.query<RowDataPacket[]>('select unix_timestamp() as t'),
    );
    return Number(rows[0]?.['t']);
  }

  async snapshot(): Promise<SourceSnapshot> {
    // A pooled session may have been dropped by the server while idle: retry once on a fresh one.
    for (let attempt = 1; ; attempt++) {
      const connection = await this.run('opening a snapshot', () => getConnection(this.pool));
      try {
        if (this.options.signal?.aborted) throw new Error('the run is stopping');
        await beginMysqlSnapshot(connection, this.#readTimeoutMs);
        const snapshot: MysqlSnapshot = new MysqlSnapshot(connection, {
          displayUrl: this.displayUrl,
          password: this.password,
          readTimeoutMs: this.#readTimeoutMs,
          connectOptions: this.connectOptions,
          onEnd: () => this.#snapshots.delete(snapshot),
        });
        this.#snapshots.add(snapshot);
        return snapshot;
      } catch (error) {
        connection.destroy();
        socketOf(connection)?.destroy();
        if (attempt >= 2 || !isFatal(error))
          throw new Error(
            `opening a snapshot of source ${this.displayUrl} failed: ${oneLineReason(error, this.password)}`,
            { cause: error },
          );
      }
    }
  }

  /**
   * Fails the reads still open, then ends the pool. A session still streaming would never get to
   * the pool's goodbye (it queues behind the result), and a run that stopped must not wait on it.
   */
  close(): Promise<void> {
    this.#closing ??= this.closeOnce();
    return this.#closing;
  }

  private async closeOnce(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.#onStop);
    await this.interruptAll('the source was closed while it was reading');
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      this.session.end().then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), closeWaitMs))),
    ]);
    clearTimeout(timer);
    if (!ended)
      for (const connection of this.#connections) {
        connection.destroy();
        socketOf(connection)?.destroy();
      }
  }

  private async interruptAll(reason: string): Promise<void> {
    await Promise.all([...this.#snapshots].map((s) => s.interrupt(reason)));
  }

  /** One statement on a pooled session, failed when the server stops answering. */
  private async query(what: string, sql: string, values: readonly unknown[] = []): Promise<RowDataPacket[]> {
    const connection = await this.run(what, () => getConnection(this.pool));
    try {
      const [rows] = await this.run(what, () =>
        answered(connection, this.#readTimeoutMs, () =>
          connection.promise().query<RowDataPacket[]>(sql, [...values]),
        ),
      );
      return rows;
    } finally {
      connection.release();
    }
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new Error(
        `${what} from source ${this.displayUrl} failed: ${oneLineReason(error, this.password)}`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * Opens a MySQL 5.7/8 or MariaDB 10.x source (`mysql://user:pass@host:port/db`) on a small pool and
 * checks that the server answers: an unreachable server, a refused login or an unknown database
 * throws a one-line `ConfigError` naming the redacted URL.
 */
export const openMysqlSource = async (url: string, options: SourceOptions = {}): Promise<Source> => {
  const displayUrl = redact(url);
  const poolOptions = mysqlPoolOptions(url);
  const pool = createPool(poolOptions);
  try {
    await pool.promise().query('select 1');
  } catch (error) {
    await pool
      .promise()
      .end()
      .catch(() => undefined);
    throw openFailure(url, error);
  }
  return new MysqlSource(pool, displayUrl, poolOptions.password ?? '', options, poolOptions);
};
