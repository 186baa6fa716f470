import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { ExitCode, UserError } from '../../../config/errors.js';
import type { Column, Value } from '../../types.js';
import {
  WarehouseBusyError,
  type ActiveLease,
  type Lease,
  type MaintenanceStep,
  type MaintenanceTarget,
  type ResultRow,
  type Warehouse,
  type WarehouseConnection,
} from '../warehouse.js';
import { duckdbDialect, duckdbLogicalType } from './duckdb-dialect.js';
import { appendRows } from './duckdb-loader.js';
import { duckdbMaintenancePlan } from './duckdb-maintenance.js';

/** Result values as the rest of the code expects them: safe integers as numbers, times as ISO text. */
const normalize = (value: unknown): Value => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
};

const bind = (params: readonly Value[]): DuckDBValue[] =>
  params.map((p) => (typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : p));

class DuckdbConnection implements WarehouseConnection {
  private depth = 0;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly onRelease: () => void,
  ) {}

  async query<T extends ResultRow = ResultRow>(sql: string, params: readonly Value[] = []): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, bind(params));
    const names = reader.columnNames();
    return reader.getRowsJS().map((row) => {
      const out: ResultRow = {};
      names.forEach((name, i) => (out[name] = normalize(row[i])));
      return out as T;
    });
  }

  async execute(sql: string, params: readonly Value[] = []): Promise<number> {
    const result = await this.connection.run(sql, bind(params));
    return Number(result.rowsChanged);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    // Nested calls join the outer transaction: the outermost one commits or rolls back everything.
    if (this.depth > 0) return fn();
    await this.connection.run('begin transaction');
    this.depth++;
    try {
      const result = await fn();
      await this.connection.run('commit');
      return result;
    } catch (error) {
      await this.connection.run('rollback').catch(() => undefined);
      throw error;
    } finally {
      this.depth--;
    }
  }

  load: WarehouseConnection['load'] = (schema, table, columns, rows) =>
    appendRows(this.connection, schema, table, columns, rows);

  async cancel(): Promise<void> {
    this.connection.interrupt();
  }

  async release(): Promise<void> {
    this.connection.closeSync();
    this.onRelease();
  }
}

/**
 * The embedded warehouse. DuckDB lets one process open a database file for writing, so the file
 * lock is the cross-process lease of SPEC §7; within the process a flag serialises runs.
 */
class DuckdbWarehouse implements Warehouse {
  readonly dialect = duckdbDialect;
  private leased = false;
  private open = 0;

  constructor(
    private readonly instance: DuckDBInstance,
    readonly displayUrl: string,
  ) {}

  async connect(): Promise<WarehouseConnection> {
    const connection = await this.instance.connect();
    this.open++;
    return new DuckdbConnection(connection, () => this.open--);
  }

  /** The pipeline creates no indexes on DuckDB (zone maps serve it), so nothing is enforced. */
  async enforcesUnique(): Promise<boolean> {
    return false;
  }

  async describeTable(schema: string, table: string): Promise<Column[] | null> {
    const connection = await this.connect();
    try {
      const rows = await connection.query<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns
          where table_schema = $1 and table_name = $2 order by ordinal_position`,
        [schema, table],
      );
      if (rows.length === 0) return null;
      return rows.map((r) => ({
        name: r.column_name,
        sourceName: r.column_name,
        type: duckdbLogicalType(r.data_type),
      }));
    } finally {
      await connection.release();
    }
  }

  async existingSchemas(names: readonly string[]): Promise<string[]> {
    const connection = await this.connect();
    try {
      const rows = await connection.query<{ schema_name: string }>(
        `select schema_name from information_schema.schemata where catalog_name = current_database()`,
      );
      const present = new Set(rows.map((r) => r.schema_name));
      return names.filter((n) => present.has(n));
    } finally {
      await connection.release();
    }
  }

  /** One `checkpoint` of the database (`duckdbMaintenancePlan`). */
  async maintenancePlan(targets: readonly MaintenanceTarget[]): Promise<MaintenanceStep[]> {
    return duckdbMaintenancePlan(targets);
  }

  async tryLease(): Promise<Lease | null> {
    if (this.leased) return null;
    this.leased = true;
    return { release: async () => void (this.leased = false) };
  }

  /**
   * Only this process can hold the lease of an open file: another process's run would hold the file
   * lock, and the open would have failed (`WarehouseBusyError`, naming its pid).
   */
  async activeLease(): Promise<ActiveLease | null> {
    return this.leased ? { pid: process.pid, since: null } : null;
  }

  async close(): Promise<void> {
    this.instance.closeSync();
  }
}

/**
 * DuckDB's buffer pool, capped. Its default is 80% of the machine's memory, which it fills with
 * cached blocks as the warehouse grows: the process's memory would grow with the data. Above this
 * DuckDB evicts cached blocks and spills large sorts and joins to `<file>.tmp`. The process peaks
 * above the cap (allocations outside the pool, more the larger the pool). 512 MB kept the marts as
 * fast as a larger pool while a smaller one slowed them (docs/performance.md, memory).
 */
export const DUCKDB_MEMORY_LIMIT = '512MB';

/**
 * Opens (creating if needed) `duckdb:<path>`; a file held by another process is a busy lease.
 * `readOnly` opens an existing file in DuckDB's READ_ONLY access mode: readers then work on a
 * read-only file or mount and beside each other (DuckDB allows many read-only processes or one
 * writer), never beside a run.
 */
export const openDuckdbWarehouse = async (
  path: string,
  displayUrl: string,
  options: { readonly readOnly?: boolean } = {},
): Promise<Warehouse> => {
  const readOnly = options.readOnly === true && path !== ':memory:';
  if (path !== ':memory:' && !readOnly) mkdirSync(dirname(path), { recursive: true });
  try {
    const instance = await DuckDBInstance.create(path, {
      memory_limit: DUCKDB_MEMORY_LIMIT,
      ...(readOnly ? { access_mode: 'READ_ONLY' } : {}),
    });
    // The ledger's clocks are UTC wall times on every engine: DuckDB's current_timestamp would
    // otherwise be read in the host's zone. (Its TimeZone option is refused at create.)
    const setup = await instance.connect();
    try {
      await setup.run(`set global TimeZone = 'UTC'`);
    } finally {
      setup.closeSync();
    }
    return new DuckdbWarehouse(instance, displayUrl);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const holder = /PID (\d+)/.exec(message)?.[1];
    if (/lock/i.test(message))
      throw new WarehouseBusyError(
        `another order-tracking process${holder ? ` (pid ${holder})` : ''} is using the warehouse ${displayUrl}; wait for it to finish`,
        { pid: holder === undefined ? null : Number(holder), since: null },
        { cause },
      );
    throw new UserError(
      `cannot open the warehouse ${displayUrl}: ${message.split('\n')[0]}`,
      ExitCode.config,
      {
        cause,
      },
    );
  }
};
