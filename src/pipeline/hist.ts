import type { WarehouseConnection } from '../engines/warehouse/warehouse.js';
import { histTablePattern, type MartSpec } from './marts.js';

/** The hist tables of a mart that exist, oldest period first (any period, past or future). */
export const listHistTables = async (
  c: WarehouseConnection,
  schema: string,
  spec: MartSpec,
): Promise<string[]> => {
  const rows = await c.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = $1 and table_name like $2`,
    [schema, `hist_${spec.source}_%`],
  );
  const pattern = histTablePattern(spec);
  return rows
    .map((r) => r.table_name)
    .filter((n) => pattern.test(n))
    .sort();
};
