import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the suites use: trust auth, user `postgres` (override with ORDER_TRACKING_TEST_POSTGRES). */
export const adminUrl =
  process.env.ORDER_TRACKING_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const probe = async (): Promise<boolean> => {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** Whether the test server answers; suites skip without it unless running in CI. */
export const pgUp = await probe();

const withAdmin = async (sql: string): Promise<void> => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

export interface TestDatabase {
  /** URL of the fresh database. */
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates `ot_test_<random hex>` on the test server; `drop` removes it even with sessions open. */
export const createTestDatabase = async (): Promise<TestDatabase> => {
  const name = `ot_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withAdmin(`drop database if exists ${name} with (force)`) };
};
