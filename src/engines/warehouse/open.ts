import type { WarehouseUrl } from '../../config/urls.js';
import { redact } from '../../config/urls.js';
import type { Warehouse } from './warehouse.js';

/**
 * Opens the warehouse a URL names. Each engine is imported on demand, so the embedded default
 * never loads a network driver and an engine is one folder plus one case here.
 */
export const openWarehouse = async (url: WarehouseUrl): Promise<Warehouse> => {
  switch (url.kind) {
    case 'duckdb': {
      const { openDuckdbWarehouse } = await import('./duckdb/duckdb-warehouse.js');
      return openDuckdbWarehouse(url.path, redact(url.url));
    }
    case 'postgres': {
      const { openPostgresWarehouse } = await import('./postgres/postgres-warehouse.js');
      return openPostgresWarehouse(url.url);
    }
    case 'redshift':
      throw new (await import('../../config/errors.js')).ConfigError(
        `warehouse ${redact(url.url)}: the Redshift engine is not built yet (use duckdb: or postgres://)`,
      );
  }
};
