import type { WarehouseUrl } from '../../config/urls.js';
import { redact } from '../../config/urls.js';
import type { Warehouse } from './warehouse.js';

export interface OpenOptions {
  /**
   * For readers (`status`, `exceptions list`, `sql`): DuckDB's READ_ONLY access mode, which opens
   * a read-only file and shares the file with other readers; PostgreSQL sessions with
   * `default_transaction_read_only`, so a reader can never write. Default: read-write.
   */
  readonly readOnly?: boolean;
}

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
    case 'redshift':
      throw new (await import('../../config/errors.js')).ConfigError(
        `warehouse ${redact(url.url)}: the Redshift engine is not built yet (use duckdb: or postgres://)`,
      );
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
