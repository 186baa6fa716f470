/**
 * Autovacuum is off on the bench's tables while a step is measured: a worker that picks a table the
 * step just filled otherwise shares the two cores with the step, in one repetition and not the next.
 * Between steps it is back on, and `settle.ts` waits for it.
 */
import { withConnection, type Warehouse } from '../src/engines/warehouse/warehouse.js';
import { tablesIn } from './catalog.js';

const setAutovacuum = async (warehouse: Warehouse, schemas: readonly string[], on: boolean): Promise<void> =>
  withConnection(warehouse, async (c) => {
    const d = warehouse.dialect;
    for (const t of await tablesIn(c, schemas))
      await c.execute(
        `alter table ${d.table(t.schema, t.table)} ${on ? 'reset (autovacuum_enabled)' : 'set (autovacuum_enabled = false)'}`,
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
