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

export interface Place {
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
  // A server's data directory on another machine (or hidden from this role) is not ours to check.
  const server = async (what: string, path: Promise<string | null>, bytes: number): Promise<void> => {
    const dir = await path;
    if (dir && existsSync(dir)) places.push({ what, path: dir, bytes });
    else
      progress(
        `${what}'s data directory is not readable here: its disk is not checked (SF ${sf} needs about ${Math.round(bytes / GB)} GB)`,
      );
  };
  const postgres = targets.find((t) => t.engine === 'postgres');
  if (postgres) await server('PostgreSQL', postgresDataDirectory(postgres), need.postgres);
  if (mysqlUrl) await server('MySQL', mysqlDataDirectory(mysqlUrl), need.mysql);
  // Places on one file system share its free space.
  const byDevice = new Map<number, Disk>();
  for (const p of places) {
    const dev = statSync(p.path).dev;
    const fs = statfsSync(p.path);
    const entry = byDevice.get(dev) ?? { free: Number(fs.bavail) * Number(fs.bsize), places: [] };
    entry.places.push(p);
    byDevice.set(dev, entry);
  }
  const short = diskShortfall(sf, [...byDevice.values()]);
  if (short) throw new UserError(short, 2);
};

/** One file system: its free bytes and the places on it the bench writes to. */
export interface Disk {
  readonly free: number;
  readonly places: Place[];
}

/** The one-line refusal for the first disk that cannot hold what its places need, or null. */
export const diskShortfall = (sf: number, disks: readonly Disk[]): string | null => {
  for (const { free, places: on } of disks) {
    const total = on.reduce((n, p) => n + p.bytes, 0);
    if (total > free)
      return `bench: SF ${sf} needs about ${Math.round(total / GB)} GB free (${on
        .map((p) => `${p.what} ${Math.round(p.bytes / GB)} GB in ${p.path}`)
        .join(', ')}); that disk has ${Math.round(free / GB)} GB`;
  }
  return null;
};
