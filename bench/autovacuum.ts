/**
 * Autovacuum is off on the bench's tables while a step is measured: a worker that picks a table the
 * step just filled otherwise shares the two cores with the step, in one repetition and not the next.
 * Between steps it is back on, and `settle.ts` waits for it.
 */
import { withConnection, type Warehouse } from '../src/engines/warehouse/warehouse.js';

const setAutovacuum = async (warehouse: Warehouse, schemas: readonly string[], on: boolean): Promise<void> =>
  withConnection(warehouse, async (c) => {
    const d = warehouse.dialect;
    const tables = await c.query<{ schemaname: string; tablename: string }>(
      `select schemaname, tablename from pg_tables where schemaname in (${schemas.map((_, i) => `$${i + 1}`).join(', ')})`,
      [...schemas],
    );
    for (const t of tables)
      await c.execute(
        `alter table ${d.table(t.schemaname, t.tablename)} ${on ? 'reset (autovacuum_enabled)' : 'set (autovacuum_enabled = false)'}`,
      );
  });

/** Runs `fn` with autovacuum off on every table of `schemas` (PostgreSQL; other engines: just `fn`). */
export const withoutAutovacuum = async <T>(
  warehouse: Warehouse,
  schemas: readonly string[],
  fn: () => Promise<T>,
): Promise<T> => {
  if (warehouse.dialect.name !== 'postgres') return fn();
  await setAutovacuum(warehouse, schemas, false);
  try {
    return await fn();
  } finally {
    await setAutovacuum(warehouse, schemas, true);
  }
};
