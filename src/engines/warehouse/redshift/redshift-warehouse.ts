import pg from 'pg';
import type { RedshiftSettings, Schemas } from '../../../config/settings.js';
import { redact } from '../../../config/urls.js';
import type { Column, LogicalType } from '../../types.js';
import { PostgresConnection } from '../postgres/postgres-connection.js';
import {
  describeTable,
  existingSchemas,
  postgresLogicalType,
  type ColumnInfo,
} from '../postgres/postgres-introspector.js';
import { createTypeParsers } from '../postgres/postgres-type-parsers.js';
import { cancelBackendOn, openError } from '../postgres/postgres-warehouse.js';
import type {
  ActiveLease,
  Lease,
  MaintenanceStep,
  MaintenanceTarget,
  Warehouse,
  WarehouseConnection,
} from '../warehouse.js';
import { RedshiftConnection } from './redshift-connection.js';
import { REDSHIFT_MAX_VARCHAR_BYTES } from './redshift-csv.js';
import { redshiftDialect } from './redshift-dialect.js';
import { heldRedshiftLease, leaseTableSql, tryRedshiftLease } from './redshift-lease.js';
import {
  redshiftMaintenancePlan,
  redshiftTableInfoQuery,
  utcWeekday,
  type RedshiftTableInfo,
} from './redshift-maintenance.js';
import { deleteStagedBefore } from './redshift-s3.js';

/** Three parallel extracts, two parallel marts, the runner's bookkeeping (as on PostgreSQL). */
const poolSize = 6;
const connectTimeoutMs = 10_000;
/** Redshift's port when the URL names none. */
const defaultPort = 5439;

/**
 * Every session runs in UTC with ISO dates (periods and cutoffs are UTC, SPEC §2, §4), set by
 * statement: Redshift takes no `options` startup parameter.
 */
const sessionSetup = ["set timezone to 'UTC'", 'set datestyle to iso'];
/** Pool sessions set up already (once each, on first checkout), with their backend pid. */
const prepared = new WeakMap<pg.PoolClient, number>();

/** `redshift://…` as the PostgreSQL driver reads it: same wire protocol, Redshift's port by default. */
export const driverUrl = (url: string): string => {
  const parsed = new URL(url.replace(/^redshift:/i, 'postgres:'));
  if (!parsed.port) parsed.port = String(defaultPort);
  return parsed.toString();
};

/**
 * A Redshift column's logical type: VARCHAR counts bytes here, and a source `varchar(n)` was
 * created as `varchar(4n)` (`redshiftVarcharBytes`), so `varchar(b)` reads back as `varchar(b / 4)`
 * (rounded down: never more characters than the bytes surely hold), and the widest as text.
 */
export const redshiftLogicalType = (info: ColumnInfo): LogicalType => {
  const type = postgresLogicalType(info);
  if (type.kind !== 'varchar') return type;
  return type.length >= REDSHIFT_MAX_VARCHAR_BYTES
    ? { kind: 'text' }
    : { kind: 'varchar', length: Math.max(1, Math.floor(type.length / 4)) };
};

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

class RedshiftWarehouse implements Warehouse {
  readonly dialect = redshiftDialect;
  private readonly leases = new Set<Lease>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    readonly displayUrl: string,
    private readonly schemas: Schemas,
    private readonly settings: RedshiftSettings,
  ) {}

  async connect(): Promise<WarehouseConnection> {
    const client = await this.pool.connect();
    try {
      // Once per pooled session: its settings, and its pid for `cancel`.
      let pid = prepared.get(client);
      if (pid === undefined) {
        for (const sql of sessionSetup) await client.query(sql);
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        pid = Number(rows[0]?.pid ?? 0);
        prepared.set(client, pid);
      }
      return new RedshiftConnection(
        new PostgresConnection(client, pid, (target) => this.cancelBackend(target)),
        {
          s3: this.settings.s3,
          insertMaxBytes: this.settings.insertMaxBytes,
        },
      );
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  describeTable(schema: string, table: string): Promise<Column[] | null> {
    return describeTable(this.pool, schema, table, redshiftLogicalType);
  }

  existingSchemas(names: readonly string[]): Promise<string[]> {
    return existingSchemas(this.pool, names);
  }

  /** Redshift enforces no key: uniqueness is always the data tests' to check. */
  enforcesUnique(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async tryLease(key: string): Promise<Lease | null> {
    const client = new pg.Client(this.config);
    client.on('error', () => undefined);
    await client.connect();
    let lease: Lease | null = null;
    try {
      for (const sql of sessionSetup) await client.query(sql);
      try {
        lease = await tryRedshiftLease(client, this.schemas.meta, key);
      } catch (error) {
        // The first run on this warehouse: the table is created once, not by every run (each
        // statement outside a transaction is one more commit in Redshift's serial commit queue).
        if ((error as { code?: unknown }).code !== '42P01' && (error as { code?: unknown }).code !== '3F000')
          throw error;
        const schemaExists = (await this.existingSchemas([this.schemas.meta])).length > 0;
        for (const sql of leaseTableSql(this.schemas.meta, schemaExists)) await client.query(sql);
        lease = await tryRedshiftLease(client, this.schemas.meta, key);
      }
    } finally {
      if (!lease) await client.end().catch(() => undefined);
    }
    if (!lease) return null;
    const held = lease;
    this.leases.add(held);
    return {
      release: async () => {
        this.leases.delete(held);
        await held.release();
      },
    };
  }

  activeLease(key: string): Promise<ActiveLease | null> {
    return heldRedshiftLease(this.pool, this.schemas.meta, key);
  }

  /** The seed's VACUUM and ANALYZE rules from `svv_table_info` (`redshiftMaintenancePlan`). */
  async maintenancePlan(
    targets: readonly MaintenanceTarget[],
    clock: { readonly now: number },
  ): Promise<MaintenanceStep[]> {
    if (targets.length === 0) return [];
    const { sql, params } = redshiftTableInfoQuery(targets);
    const { rows } = await this.pool.query<{
      table_schema: string;
      table_name: string;
      unsorted: string | number | null;
      stats_off: string | number | null;
    }>(sql, [...params]);
    const info = new Map<string, RedshiftTableInfo>(
      rows.map((r) => [
        `${r.table_schema}.${r.table_name}`,
        {
          unsorted: r.unsorted === null ? null : Number(r.unsorted),
          statsOff: r.stats_off === null ? null : Number(r.stats_off),
        },
      ]),
    );
    return redshiftMaintenancePlan(targets, utcWeekday(clock.now), info);
  }

  /**
   * Serializable isolation violation (1023, https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation.html)
   * and a conflict with a concurrent transaction: the task runs again.
   */
  isRetryable(error: unknown): boolean {
    return /\b1023\b|serializable isolation violation|conflict with concurrent transaction/i.test(
      errorText(error),
    );
  }

  async cleanStaging(before: Date): Promise<number> {
    const s3 = this.settings.s3;
    if (!s3) return 0;
    return deleteStagedBefore(s3, before);
  }

  async close(): Promise<void> {
    await Promise.all([...this.leases].map((lease) => lease.release()));
    this.leases.clear();
    await this.pool.end();
  }

  /** https://docs.aws.amazon.com/redshift/latest/dg/PG_CANCEL_BACKEND.html */
  private cancelBackend(pid: number): Promise<void> {
    return cancelBackendOn(this.config, pid);
  }
}

/**
 * Opens `redshift://user:pass@host:5439/db` over the PostgreSQL wire protocol (SSL as the URL's
 * `sslmode` says). Readers are not fenced on the server (Redshift has no read-only session
 * setting): they only read.
 */
export const openRedshiftWarehouse = async (
  url: string,
  options: { readonly schemas: Schemas; readonly redshift: RedshiftSettings },
): Promise<Warehouse> => {
  const config: pg.ClientConfig = {
    connectionString: driverUrl(url),
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    application_name: 'order-tracking',
    types: createTypeParsers(),
  };
  const pool = new pg.Pool({ ...config, max: poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw openError(url, error);
  }
  return new RedshiftWarehouse(pool, config, redact(url), options.schemas, options.redshift);
};
