import { hostname } from 'node:os';
import type pg from 'pg';
import { qualifiedTable, quoteIdentifier } from '../postgres/postgres-dialect.js';
import type { ActiveLease, Lease } from '../warehouse.js';

/**
 * Redshift has no advisory locks (SPEC §7): the lease is a row of `<meta>.leases`, written under
 * `LOCK` as the first statement of its transaction (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html),
 * so two takers serialize and the second sees the first's row. The row names the holder's session
 * (`process` and `starttime` of `stv_sessions`, https://docs.aws.amazon.com/redshift/latest/dg/r_STV_SESSIONS.html),
 * which stays open for the whole run: a row whose session is gone (a killed process, a dropped
 * connection) is stale, and the next taker replaces it. `stv_sessions` shows a regular user only its
 * own sessions, so every run of one pipeline must use the same database user.
 */
export const leaseTableSql = (schema: string, schemaExists = false): readonly string[] => [
  // Only when missing: `if not exists` still needs CREATE on the database.
  ...(schemaExists ? [] : [`create schema if not exists ${quoteIdentifier(schema)}`]),
  `create table if not exists ${qualifiedTable(schema, 'leases')} (
  "lease_key" varchar(256),
  "holder_pid" integer,
  "holder_start" timestamp,
  "holder" varchar(256),
  "taken_at" timestamp
) diststyle all`,
];

/**
 * Every statement the lease sends (pinned in the Redshift goldens). `stv_sessions` lives on the
 * leader node and a user table on the compute nodes: no statement reads both
 * (https://docs.aws.amazon.com/redshift/latest/dg/c_sql-functions-leader-node.html).
 */
export const leaseStatements = (schema: string) => {
  const table = qualifiedTable(schema, 'leases');
  return {
    lock: `lock ${table}`,
    // Session starts travel as text: a JavaScript Date would drop their microseconds, and a live
    // holder would then look like another session.
    holder: `select holder_pid as pid, cast(holder_start as varchar) as since from ${table} where lease_key = $1`,
    /** `$1` a pid, `$2` its session's start: one row while that session lives. */
    alive: `select process from stv_sessions where process = $1 and starttime = cast($2 as timestamp)`,
    self: `select process as pid, cast(starttime as varchar) as since from stv_sessions where process = pg_backend_pid()`,
    clear: `delete from ${table} where lease_key = $1`,
    take: `insert into ${table} (lease_key, holder_pid, holder_start, holder, taken_at) values ($1, $2, cast($3 as timestamp), $4, cast($5 as timestamp))`,
    release: `delete from ${table} where lease_key = $1 and holder_pid = $2`,
  } as const;
};

/** The holder row of `key` with whether its session is alive. */
const holderOf = async (
  client: Pick<pg.ClientBase, 'query'>,
  schema: string,
  key: string,
): Promise<{ pid: number; since: string | null; alive: boolean } | null> => {
  const sql = leaseStatements(schema);
  const { rows } = await client.query<{ pid: number; since: string | null }>(sql.holder, [key]);
  const row = rows[0];
  if (!row) return null;
  const alive = (await client.query(sql.alive, [row.pid, row.since])).rows.length > 0;
  return { pid: Number(row.pid), since: row.since, alive };
};

/**
 * Tries to take the lease `key` on `client`, a session of its own kept open while held. Returns
 * `null` at once when a live session holds it. The caller creates the table first (`leaseTableSql`).
 */
export const tryRedshiftLease = async (
  client: pg.Client,
  schema: string,
  key: string,
): Promise<Lease | null> => {
  const sql = leaseStatements(schema);
  const self = (await client.query<{ pid: number; since: string }>(sql.self)).rows[0];
  if (!self) throw new Error('stv_sessions does not show this session: the lease cannot name its holder');
  await client.query('begin');
  try {
    await client.query(sql.lock);
    const holder = await holderOf(client, schema, key);
    if (holder?.alive) {
      await client.query('rollback');
      return null;
    }
    await client.query(sql.clear, [key]);
    await client.query(sql.take, [
      key,
      self.pid,
      self.since,
      `${hostname()}:${process.pid}`,
      new Date().toISOString(),
    ]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    release: () =>
      (released ??= (async () => {
        try {
          await client.query('begin');
          await client.query(sql.lock);
          await client.query(sql.release, [key, self.pid]);
          await client.query('commit');
        } catch {
          // The session is gone, and with it the lease: the next taker finds the row stale.
        } finally {
          await client.end().catch(() => undefined);
        }
      })()),
  };
};

/** Who holds `key`, when a live session does; read without locking (a reader must not block a run). */
export const heldRedshiftLease = async (
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  key: string,
): Promise<ActiveLease | null> => {
  const holder = await holderOf(db, schema, key).catch((error: unknown) => {
    // No lease table yet: nobody ever ran.
    if ((error as { code?: string }).code === '42P01') return null;
    throw error;
  });
  return holder?.alive ? { pid: holder.pid, since: holder.since } : null;
};
