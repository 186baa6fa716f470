import {
  DEFAULT_INSERT_MAX_BYTES,
  DEFAULT_SCHEMAS,
  type RedshiftSettings,
  type Schemas,
} from '../../config/settings.js';
import type { WarehouseUrl } from '../../config/urls.js';
import { redact } from '../../config/urls.js';
import type { Dialect, Warehouse } from './warehouse.js';

export interface OpenOptions {
  /**
   * For readers (`status`, `exceptions list`, `sql`): DuckDB's READ_ONLY access mode, which opens
   * a read-only file and shares the file with other readers; PostgreSQL sessions with
   * `default_transaction_read_only`, so a reader can never write. Default: read-write.
   */
  readonly readOnly?: boolean;
  /**
   * Where Redshift keeps its lease (the metadata schema) and how it loads; the defaults when absent
   * (a reader that only reads).
   */
  readonly settings?: { readonly schemas: Schemas; readonly redshift: RedshiftSettings };
}

const defaultSettings = {
  schemas: DEFAULT_SCHEMAS,
  redshift: { s3: null, tables: {}, insertMaxBytes: DEFAULT_INSERT_MAX_BYTES },
} as const;

/**
 * Opens the warehouse a URL names. Each engine is imported on demand, so the embedded default
 * never loads a network driver and an engine is one folder plus one case here.
 */
export const openWarehouse = async (url: WarehouseUrl, options: OpenOptions = {}): Promise<Warehouse> => {
  switch (url.kind) {
    case 'duckdb': {
      const { openDuckdbWarehouse } = await import('./duckdb/duckdb-warehouse.js');
      return openDuckdbWarehouse(url.path, redact(url.url), options);
    }
    case 'postgres': {
      const { openPostgresWarehouse } = await import('./postgres/postgres-warehouse.js');
      return openPostgresWarehouse(url.url, options);
    }
    case 'redshift': {
      const { openRedshiftWarehouse } = await import('./redshift/redshift-warehouse.js');
      return openRedshiftWarehouse(url.url, options.settings ?? defaultSettings);
    }
  }
};

/** The SQL dialect of the warehouse a URL names, without opening it (`sql --offline`). */
export const dialectOf = async (url: WarehouseUrl): Promise<Dialect> => {
  switch (url.kind) {
    case 'duckdb':
      return (await import('./duckdb/duckdb-dialect.js')).duckdbDialect;
    case 'postgres':
      return (await import('./postgres/postgres-dialect.js')).postgresDialect;
    case 'redshift':
      return (await import('./redshift/redshift-dialect.js')).redshiftDialect;
  }
};

/**
 * Where the last status snapshot of a warehouse is kept, or `null` where readers never need one.
 * A run holds a DuckDB file for its whole duration and no other process can open it then, so the
 * run leaves what `status` would show beside the file; a server answers readers during a run.
 */
export const statusSnapshotPath = (url: WarehouseUrl): string | null => {
  switch (url.kind) {
    case 'duckdb':
      return url.path === ':memory:' ? null : `${url.path}.status.json`;
    case 'postgres':
    case 'redshift':
      return null;
  }
};
