/** Catalog reads the bench's modules share: row counts, and PostgreSQL's tables per schema. */
import type { WarehouseConnection } from '../src/engines/warehouse/warehouse.js';

/** `count(*)` of a quoted relation. */
export const countRows = async (c: WarehouseConnection, table: string): Promise<number> =>
  Number((await c.query<{ n: number }>(`select count(*) as n from ${table}`))[0]?.n ?? 0);

/** PostgreSQL: the tables of these schemas, in schema and name order. */
export const tablesIn = async (
  c: WarehouseConnection,
  schemas: readonly string[],
): Promise<Array<{ schema: string; table: string }>> =>
  (
    await c.query<{ schemaname: string; tablename: string }>(
      `select schemaname, tablename from pg_tables where schemaname in (${schemas.map((_, i) => `$${i + 1}`).join(', ')})
        order by schemaname, tablename`,
      [...schemas],
    )
  ).map((t) => ({ schema: t.schemaname, table: t.tablename }));
