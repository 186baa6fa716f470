import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ActiveLease, Lease } from '../warehouse.js';

/**
 * The advisory-lock key for a lease name: the first 64 bits of its SHA-256, as a signed bigint in
 * decimal. 64 bits rather than `hashtext`'s 32 make a clash with another application's lock (or
 * another pipeline's) practically impossible.
 */
export const advisoryKey = (name: string): string =>
  createHash('sha256').update(`order-tracking:${name}`).digest().readBigInt64BE(0).toString();

/**
 * Tries to take the session-level advisory lock for `name` on a dedicated connection outside the
 * pool (SPEC §7: one active run per pipeline). Returns `null` at once when another session holds it.
 * The lock lives exactly as long as that connection: `release` unlocks and closes it, and if the
 * process dies the server drops the session and with it the lock.
 */
export const tryAdvisoryLease = async (config: pg.ClientConfig, name: string): Promise<Lease | null> => {
  const client = new pg.Client(config);
  // A dropped lease connection means the lock is gone too; the run notices on its next statement.
  client.on('error', () => undefined);
  await client.connect();
  const key = advisoryKey(name);
  let locked = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      'select pg_try_advisory_lock($1::bigint) as locked',
      [key],
    );
    locked = rows[0]?.locked === true;
  } finally {
    if (!locked) await client.end().catch(() => undefined);
  }
  if (!locked) return null;

  let released: Promise<void> | undefined;
  return {
    release: () =>
      (released ??= (async () => {
        try {
          await client.query('select pg_advisory_unlock($1::bigint)', [key]);
        } catch {
          // The connection is already gone, and the lock with it.
        } finally {
          await client.end().catch(() => undefined);
        }
      })()),
  };
};

/**
 * Who holds the advisory lock for `name`, read from `pg_locks` without trying to take it: a
 * `pg_try_advisory_lock` that succeeded for a moment would make a run starting then exit 75.
 * `pg_locks` shows a bigint key as its high and low 32 bits (`classid`, `objid`, `objsubid` 1),
 * in the current database. `since` is the holder's session start where `pg_stat_activity` shows
 * it (to its own role, or with `pg_read_all_stats`). Any role may read `pg_locks`.
 */
export const heldAdvisoryLease = async (
  db: Pick<pg.Pool, 'query'>,
  name: string,
): Promise<ActiveLease | null> => {
  const key = BigInt.asUintN(64, BigInt(advisoryKey(name)));
  const { rows } = await db.query<{ pid: number; since: string | null }>(
    `select l.pid, a.backend_start as since
       from pg_locks l
       left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = $1::oid and l.objid = $2::oid
      limit 1`,
    [(key >> 32n).toString(), (key & 0xffffffffn).toString()],
  );
  const row = rows[0];
  return row ? { pid: Number(row.pid), since: row.since } : null;
};
