/**
 * The bench's disk check: before it writes anything, each place it writes to must have room for the
 * largest SF. Estimates come from measured runs (`results.json`, `postgresBytes` and
 * `embeddedBytes`) with a margin; W2's backlog and the reference's copies do not shrink with SF.
 */
import { existsSync, statfsSync, statSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { UserError } from '../src/config/errors.js';
import { openWarehouse } from '../src/engines/warehouse/open.js';
import { withConnection } from '../src/engines/warehouse/warehouse.js';
import type { EngineTarget } from './workloads.js';

const GB = 1024 ** 3;

/** Bytes each place needs at scale factor `sf`: a fixed part (W2's backlog) and a part per SF. */
// At SF 0.1 and 1 (2026-12-05): PostgreSQL's database peaked at 7.2 and 17.9 GB, MariaDB's source at
// 2.0 GB (SF 1), the SQLite source and DuckDB file (and its W2 copy) at 2.8 GB (SF 1); about 10% more.
export const diskNeeds = (sf: number): { postgres: number; mysql: number; local: number } => ({
  postgres: (7 + 13 * sf) * GB,
  mysql: (1 + 1.5 * sf) * GB,
  local: (2 + 2 * sf) * GB,
});

interface Place {
  readonly what: string;
  readonly path: string;
  readonly bytes: number;
}

const postgresDataDirectory = async (target: EngineTarget): Promise<string | null> => {
  const warehouse = await openWarehouse(target.settings.warehouse);
  try {
    return await withConnection(warehouse, async (c) => {
      const rows = await c.query<{ data_directory: string }>('show data_directory');
      return rows[0]?.data_directory ?? null;
    });
  } catch {
    return null; // not a superuser or pg_read_all_settings: the server's disk is not ours to see
  } finally {
    await warehouse.close();
  }
};

const mysqlDataDirectory = async (url: string): Promise<string | null> => {
  const conn = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select @@datadir as d');
    return String(rows[0]?.d ?? '') || null;
  } finally {
    await conn.end();
  }
};

/** Fails with one line when a local disk the bench writes to lacks the room `sf` needs. */
export const checkDisk = async (
  sf: number,
  targets: readonly EngineTarget[],
  mysqlUrl: string | null,
  dir: string,
  progress: (line: string) => void,
): Promise<void> => {
  const need = diskNeeds(sf);
  const places: Place[] = [{ what: 'DuckDB and SQLite', path: dir, bytes: need.local }];
  const server = targets.find((t) => t.engine === 'postgres');
  if (server) {
    const path = await postgresDataDirectory(server);
    if (path && existsSync(path)) places.push({ what: 'PostgreSQL', path, bytes: need.postgres });
    else
      progress(
        `PostgreSQL's data directory is not readable here: its disk is not checked (SF ${sf} needs about ${Math.round(need.postgres / GB)} GB)`,
      );
  }
  if (mysqlUrl) {
    const path = await mysqlDataDirectory(mysqlUrl);
    if (path && existsSync(path)) places.push({ what: 'MySQL', path, bytes: need.mysql });
    else
      progress(
        `MySQL's data directory is not readable here: its disk is not checked (SF ${sf} needs about ${Math.round(need.mysql / GB)} GB)`,
      );
  }
  // Places on one file system share its free space.
  const byDevice = new Map<number, { free: number; places: Place[] }>();
  for (const p of places) {
    const dev = statSync(p.path).dev;
    const entry = byDevice.get(dev) ?? {
      free: Number(statfsSync(p.path).bavail) * Number(statfsSync(p.path).bsize),
      places: [],
    };
    entry.places.push(p);
    byDevice.set(dev, entry);
  }
  for (const { free, places: on } of byDevice.values()) {
    const total = on.reduce((n, p) => n + p.bytes, 0);
    if (total > free)
      throw new UserError(
        `bench: SF ${sf} needs about ${Math.round(total / GB)} GB free (${on
          .map((p) => `${p.what} ${Math.round(p.bytes / GB)} GB in ${p.path}`)
          .join(', ')}); that disk has ${Math.round(free / GB)} GB`,
        2,
      );
  }
};
