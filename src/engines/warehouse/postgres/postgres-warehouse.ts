import pg from 'pg';
import { ConfigError } from '../../../config/errors.js';
import { maskIn } from '../../../config/secrets.js';
import { redact, secretsOf } from '../../../config/urls.js';
import type { Column } from '../../types.js';
import type {
  ActiveLease,
  Lease,
  MaintenanceStep,
  MaintenanceTarget,
  Warehouse,
  WarehouseConnection,
} from '../warehouse.js';
import { PostgresConnection } from './postgres-connection.js';
import { postgresDialect } from './postgres-dialect.js';
import { describeTable, enforcesUnique, existingSchemas } from './postgres-introspector.js';
import { heldAdvisoryLease, tryAdvisoryLease } from './postgres-lease.js';
import {
  postgresActivityByTable,
  postgresActivityQuery,
  postgresMaintenancePlan,
} from './postgres-maintenance.js';
import { createTypeParsers } from './postgres-type-parsers.js';
import { UNREACHABLE_CODES } from '../../unreachable.js';

/** Pool size: three parallel extracts, two parallel marts, and room for the runner's bookkeeping. */
const poolSize = 6;
const connectTimeoutMs = 5_000;

/**
 * Connection settings shared by the pool, the lease and the cancel sessions. Sessions run in UTC
 * with ISO dates, whatever the server's defaults: periods and cutoffs are UTC (SPEC §2, §4). A URL
 * `?options=…` parameter overrides this.
 *
 * `work_mem` is raised for our sessions only (the server's stock 4 MB stays everyone else's): at
 * 4 MB the deduplication of a backlog (millions of rows) sorts on disk in many passes and the hash
 * joins against the marts batch to disk. 256 MB per sort node, twice that per hash node
 * (`hash_mem_multiplier`), on at most six sessions of which two run marts at a time.
 */
export const SESSION_WORK_MEM = '256MB';

/**
 * `random_page_cost` 1.1 for our sessions: a mart's key index stays cached between cycles, and
 * priced as disk seeks (the stock 4) its probes lose to hashing the whole mart, a cost that follows
 * the history rather than the batch.
 */
export const SESSION_RANDOM_PAGE_COST = '1.1';

/**
 * `enable_memoize` off for the pool's sessions, where the server has it (PostgreSQL 14+; a startup
 * option naming it would refuse every connection to 13). Our joins probe a mart's unique key with
 * keys that are themselves unique (a deduplicated batch), so a memoize cache never hits; misled by
 * a low join estimate, PostgreSQL 15 still chose one for a backlog of millions of rows, all misses,
 * where the hash join it picks without is about twice as fast.
 */
const sessionSetup = "select set_config(name, 'off', false) from pg_settings where name = 'enable_memoize'";
/** A reader's sessions refuse every write, whatever a bug or the role would allow. */
const readOnlySetup = "select set_config('default_transaction_read_only', 'on', false)";
/** Pool sessions that ran `sessionSetup` (once each, on first checkout). */
const prepared = new WeakSet<pg.PoolClient>();

const clientConfig = (url: string): pg.ClientConfig => ({
  connectionString: url,
  connectionTimeoutMillis: connectTimeoutMs,
  keepAlive: true,
  application_name: 'order-tracking',
  options: `-c TimeZone=UTC -c DateStyle=ISO -c work_mem=${SESSION_WORK_MEM} -c random_page_cost=${SESSION_RANDOM_PAGE_COST}`,
  types: createTypeParsers(),
});

const errorCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The error's message on one line; AggregateError (one per address tried) lists its parts. */
const reasonOf = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length > 0)
    return [...new Set(error.errors.map(reasonOf))].join('; ');
  const text = error instanceof Error ? error.message || errorCode(error) || error.name : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
};

/** A `ConfigError` for a warehouse that cannot be opened, naming only the redacted URL. */
export const openError = (url: string, error: unknown): ConfigError => {
  const display = redact(url);
  // Belt and braces: no driver message should hold the password, but none ever may.
  const reason = maskIn(reasonOf(error), secretsOf(url));
  const code = errorCode(error);
  if ((code && UNREACHABLE_CODES.has(code)) || /timeout|terminated unexpectedly/i.test(reason))
    return new ConfigError(`warehouse ${display} is unreachable: ${reason}`, { cause: error });
  if (code === '3D000')
    return new ConfigError(`warehouse ${display} names a database that does not exist: ${reason}`, {
      cause: error,
    });
  if (code === '28P01' || code === '28000')
    return new ConfigError(`warehouse ${display} refused the login (check user and password): ${reason}`, {
      cause: error,
    });
  return new ConfigError(`warehouse ${display} cannot be opened: ${reason}`, { cause: error });
};

class PostgresWarehouse implements Warehouse {
  readonly dialect = postgresDialect;
  private readonly pids = new WeakMap<pg.PoolClient, number>();
  private readonly leases = new Set<Lease>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    readonly displayUrl: string,
    private readonly readOnly = false,
  ) {}

  async connect(): Promise<WarehouseConnection> {
    const client = await this.pool.connect();
    if (!prepared.has(client)) {
      try {
        await client.query(sessionSetup);
        if (this.readOnly) await client.query(readOnlySetup);
      } catch (error) {
        client.release(true);
        throw error;
      }
      prepared.add(client);
    }
    try {
      let pid = this.pids.get(client);
      if (pid === undefined) {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        pid = rows[0]?.pid ?? 0;
        this.pids.set(client, pid);
      }
      return new PostgresConnection(client, pid, (target) => this.cancelBackend(target));
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  describeTable(schema: string, table: string): Promise<Column[] | null> {
    return describeTable(this.pool, schema, table);
  }

  existingSchemas(names: readonly string[]): Promise<string[]> {
    return existingSchemas(this.pool, names);
  }

  enforcesUnique(schema: string, table: string, columns: readonly string[]): Promise<boolean> {
    return enforcesUnique(this.pool, schema, table, columns);
  }

  async tryLease(key: string): Promise<Lease | null> {
    const lease = await tryAdvisoryLease(this.config, key);
    if (!lease) return null;
    this.leases.add(lease);
    return {
      release: async () => {
        this.leases.delete(lease);
        await lease.release();
      },
    };
  }

  activeLease(key: string): Promise<ActiveLease | null> {
    return heldAdvisoryLease(this.pool, key);
  }

  /** `vacuum (analyze)` per table; hist tables only when written since (`postgresMaintenancePlan`). */
  async maintenancePlan(targets: readonly MaintenanceTarget[]): Promise<MaintenanceStep[]> {
    if (targets.length === 0) return [];
    const { sql, params } = postgresActivityQuery(targets);
    const { rows } = await this.pool.query(sql, [...params]);
    return postgresMaintenancePlan(targets, postgresActivityByTable(rows));
  }

  /** Releases any lease still held and closes every pooled session. */
  async close(): Promise<void> {
    await Promise.all([...this.leases].map((lease) => lease.release()));
    this.leases.clear();
    await this.pool.end();
  }

  private cancelBackend(pid: number): Promise<void> {
    return cancelBackendOn(this.config, pid);
  }
}

/**
 * `pg_cancel_backend` on a short-lived session of its own: the pool may be exhausted exactly when
 * a timeout needs to cancel something. Redshift has the same function.
 */
export const cancelBackendOn = async (config: pg.ClientConfig, pid: number): Promise<void> => {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('select pg_cancel_backend($1)', [pid]);
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * Opens `postgres://user:pass@host:port/db` as a warehouse: a pool of up to 6 sessions, checked
 * with `select 1`. An unreachable server, an unknown database or a refused login throws a
 * `ConfigError` whose one-line message names the redacted URL and the reason.
 */
export const openPostgresWarehouse = async (
  url: string,
  options: { readonly readOnly?: boolean } = {},
): Promise<Warehouse> => {
  const config = clientConfig(url);
  const pool = new pg.Pool({ ...config, max: poolSize, idleTimeoutMillis: 30_000 });
  // An idle session that dies (server restart, network) is dropped by the pool, which opens a new
  // one on the next checkout; without a listener the 'error' event would crash the process.
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw openError(url, error);
  }
  return new PostgresWarehouse(pool, config, redact(url), options.readOnly === true);
};
