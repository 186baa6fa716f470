import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2';
import { redact } from '../../../config/urls.js';
import type { Column } from '../../types.js';
import type { Source, SourceSnapshot } from '../source.js';
import { mysqlPoolOptions, oneLineReason, openFailure } from './mysql-connect.js';
import { beginMysqlSnapshot, MysqlSnapshot } from './mysql-snapshot.js';
import { describeColumnsSql, quoteMysql } from './mysql-sql.js';
import { mysqlLogicalType } from './mysql-types.js';

const getConnection = (pool: Pool): Promise<PoolConnection> =>
  new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection)));
  });

const isFatal = (error: unknown): boolean => (error as { fatal?: unknown } | null)?.fatal === true;

const numberOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

class MysqlSource implements Source {
  private readonly session;

  constructor(
    private readonly pool: Pool,
    readonly displayUrl: string,
    private readonly password: string,
  ) {
    this.session = pool.promise();
  }

  async describeTable(table: string): Promise<Column[] | null> {
    const [rows] = await this.run(`describing ${table}`, () =>
      this.session.query<RowDataPacket[]>(describeColumnsSql, [table]),
    );
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
    const [rows] = await this.run(`reading max(${column}) of ${table}`, () =>
      this.session.query<RowDataPacket[]>(
        `select cast(max(${quoteMysql(column)}) as char) as m from ${quoteMysql(table)}`,
      ),
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
        await beginMysqlSnapshot(connection);
        return new MysqlSnapshot(connection, this.displayUrl, this.password);
      } catch (error) {
        connection.destroy();
        if (attempt >= 2 || !isFatal(error))
          throw new Error(
            `opening a snapshot of source ${this.displayUrl} failed: ${oneLineReason(error, this.password)}`,
            { cause: error },
          );
      }
    }
  }

  async close(): Promise<void> {
    await this.session.end();
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
export const openMysqlSource = async (url: string): Promise<Source> => {
  const displayUrl = redact(url);
  const options = mysqlPoolOptions(url);
  const pool = createPool(options);
  try {
    await pool.promise().query('select 1');
  } catch (error) {
    await pool
      .promise()
      .end()
      .catch(() => undefined);
    throw openFailure(url, error);
  }
  return new MysqlSource(pool, displayUrl, options.password ?? '');
};
