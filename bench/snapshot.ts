/**
 * W2 repeats on the same warehouse state: its backlog is a production-rate day, as large as the SF 1
 * history's marts, so a second backlog on top of the first would measure a warehouse twice the
 * size. Before the first repetition the bench keeps the warehouse's state; before each next one it
 * puts it back, and the cycle extracts the same backlog again from the restored watermarks.
 * - DuckDB: a copy of the file (the cycle process closes it after each cycle).
 * - PostgreSQL: the data of every mart-schema and meta table, and of the held rows' copies beside
 *   raw, copied to a schema of its own; a restore truncates each live table and loads it back with
 *   its indexes rebuilt in bulk (their definitions and names unchanged), drops tables the workload
 *   created, deletes the raw batches it landed, and VACUUM ANALYZEs, as the state before had been.
 */
import { copyFileSync, rmSync } from 'node:fs';
import type { Settings } from '../src/config/settings.js';
import { openWarehouse } from '../src/engines/warehouse/open.js';
import {
  withConnection,
  type Warehouse,
  type WarehouseConnection,
} from '../src/engines/warehouse/warehouse.js';
import { marts } from '../src/pipeline/marts.js';
import { heldTableName, rawTableName } from '../src/pipeline/tables.js';
import { tablesIn } from './catalog.js';
import { tableBytes, onConnections, type BulkJob } from './parallel.js';

export interface Snapshot {
  /** Puts the warehouse back as it was when the snapshot was taken. */
  restore(): Promise<void>;
  /** Removes the snapshot. */
  drop(): Promise<void>;
}

const duckdbSnapshot = (file: string): Snapshot => {
  const copy = `${file}.snapshot`;
  copyFileSync(file, copy);
  return {
    restore: async () => {
      rmSync(`${file}.wal`, { force: true });
      copyFileSync(copy, file);
    },
    drop: async () => rmSync(copy, { force: true }),
  };
};

/** Indexes of a table not backing a constraint: `{ name, definition }`. */
const plainIndexes = async (
  c: WarehouseConnection,
  schema: string,
  table: string,
): Promise<Array<{ name: string; definition: string }>> =>
  c.query<{ name: string; definition: string }>(
    `select ic.relname as name, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i
       join pg_class ic on ic.oid = i.indexrelid
       join pg_class tc on tc.oid = i.indrelid
       join pg_namespace n on n.oid = tc.relnamespace
      where n.nspname = $1 and tc.relname = $2
        and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
    [schema, table],
  );

type Opened = <T>(fn: (w: Warehouse) => Promise<T>) => Promise<T>;

const postgresSnapshot = async (opened: Opened, settings: Settings, keep: string): Promise<Snapshot> => {
  const { raw, mart, meta } = settings.schemas;
  const copyName = (t: { schema: string; table: string }): string => `${t.schema}__${t.table}`;
  // The mart-schema and meta tables, and the copies of held rows beside raw.
  const held = new Set(marts.map((m) => heldTableName(m.source)));
  const keptTables = async (c: WarehouseConnection): Promise<Array<{ schema: string; table: string }>> => [
    ...(await tablesIn(c, [mart, meta])),
    ...(await tablesIn(c, [raw])).filter((t) => held.has(t.table)),
  ];
  const { kept, lastBatch } = await opened(async (w) => {
    const d = w.dialect;
    const { tables, last, jobs } = await withConnection(w, async (c) => {
      await c.execute(`drop schema if exists ${d.quote(keep)} cascade`);
      await c.execute(`create schema ${d.quote(keep)}`);
      const tables = await keptTables(c);
      const jobs: BulkJob[] = [];
      for (const t of tables) {
        const live = d.table(t.schema, t.table);
        jobs.push({
          weight: await tableBytes(c, live),
          run: (j) => j.execute(`create table ${d.table(keep, copyName(t))} as select * from ${live}`),
        });
      }
      const last = new Map<string, number>();
      for (const m of marts) {
        const rows = await c.query<{ b: number | null }>(
          `select max(_batch_id) as b from ${d.table(raw, rawTableName(m.source))}`,
        );
        last.set(rawTableName(m.source), Number(rows[0]?.b ?? 0));
      }
      return { tables, last, jobs };
    });
    await onConnections(w, jobs);
    return { kept: tables, lastBatch: last };
  });
  return {
    restore: () =>
      opened(async (w) => {
        const d = w.dialect;
        const jobs = await withConnection(w, async (c) => {
          const keptNames = new Set(kept.map(copyName));
          for (const t of await keptTables(c))
            if (!keptNames.has(copyName(t))) await c.execute(`drop table ${d.table(t.schema, t.table)}`);
          const jobs: BulkJob[] = [];
          for (const t of kept) {
            const live = d.table(t.schema, t.table);
            const copy = d.table(keep, copyName(t));
            const indexes = await plainIndexes(c, t.schema, t.table);
            jobs.push({
              weight: (await tableBytes(c, copy)) * (1 + indexes.length),
              run: async (j) => {
                await j.transaction(async () => {
                  await j.execute(`truncate ${live}`);
                  for (const i of indexes) await j.execute(`drop index ${d.table(t.schema, i.name)}`);
                  await j.execute(`insert into ${live} select * from ${copy}`);
                  for (const i of indexes) await j.execute(i.definition);
                });
                await j.execute(`vacuum (analyze) ${live}`);
              },
            });
          }
          for (const [table, batch] of lastBatch) {
            const live = d.table(raw, table);
            jobs.push({
              weight: await tableBytes(c, live),
              run: async (j) => {
                await j.execute(`delete from ${live} where _batch_id > $1`, [batch]);
                await j.execute(`vacuum (analyze) ${live}`);
              },
            });
          }
          return jobs;
        });
        await onConnections(w, jobs);
      }),
    drop: () =>
      opened((w) =>
        withConnection(w, (c) => c.execute(`drop schema if exists ${w.dialect.quote(keep)} cascade`)),
      ).then(() => undefined),
  };
};

/** Keeps the warehouse's state now (`keep`: the PostgreSQL schema that holds it). */
export const takeSnapshot = async (settings: Settings, keep: string): Promise<Snapshot> => {
  if (settings.warehouse.kind === 'duckdb') return duckdbSnapshot(settings.warehouse.path);
  const opened: Opened = async (fn) => {
    const w = await openWarehouse(settings.warehouse);
    try {
      return await fn(w);
    } finally {
      await w.close();
    }
  };
  return postgresSnapshot(opened, settings, keep);
};
