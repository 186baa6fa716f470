/**
 * The bench's own bulk work between measured steps (copies of the marts, restores, VACUUM) runs on
 * a few connections at once: PostgreSQL gives one statement one core, and nothing else runs then.
 */
import { availableParallelism } from 'node:os';
import { tablesIn } from './catalog.js';
import {
  withConnection,
  type Warehouse,
  type WarehouseConnection,
} from '../src/engines/warehouse/warehouse.js';

export interface BulkJob {
  /** Bytes it moves, roughly: the largest jobs start first, so the connections finish together. */
  readonly weight: number;
  readonly run: (c: WarehouseConnection) => Promise<unknown>;
}

/** Connections for bulk work: one per core, at most 4 (each index build may take maintenance_work_mem). */
export const bulkWidth = (): number => Math.max(1, Math.min(4, availableParallelism()));

/**
 * Runs independent jobs on `width` connections, largest first. After a failure no new job starts;
 * the ones running finish, then the first error is thrown.
 */
export const onConnections = async (
  warehouse: Warehouse,
  jobs: readonly BulkJob[],
  width = bulkWidth(),
): Promise<void> => {
  const queue = [...jobs].sort((a, b) => b.weight - a.weight);
  let failed = false;
  const lane = (): Promise<void> =>
    withConnection(warehouse, async (c) => {
      for (let job = queue.shift(); job && !failed; job = queue.shift()) {
        try {
          await job.run(c);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    });
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(width, queue.length) }, lane));
  const error = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (error) throw error.reason;
};

/** Bytes of a quoted table (0 when it does not exist): a job's weight, right without statistics. */
export const tableBytes = async (c: WarehouseConnection, table: string): Promise<number> =>
  Number(
    (await c.query<{ n: number | null }>(`select pg_relation_size(to_regclass($1)) as n`, [table]))[0]?.n ??
      0,
  );

/** VACUUM ANALYZE of every table in these PostgreSQL schemas, on `onConnections`. */
export const vacuumAnalyzeSchemas = async (
  warehouse: Warehouse,
  schemas: readonly string[],
): Promise<void> => {
  const jobs = await withConnection(warehouse, async (c) => {
    const jobs: BulkJob[] = [];
    for (const t of await tablesIn(c, schemas)) {
      const table = warehouse.dialect.table(t.schema, t.table);
      jobs.push({ weight: await tableBytes(c, table), run: (j) => j.execute(`vacuum (analyze) ${table}`) });
    }
    return jobs;
  });
  await onConnections(warehouse, jobs);
};
