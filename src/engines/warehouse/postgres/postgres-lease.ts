import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Lease } from '../warehouse.js';

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
