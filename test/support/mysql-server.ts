/** The MariaDB/MySQL server of the suites that write a source themselves (no PostgreSQL needed). */
import { createConnection } from 'mysql2/promise';

export const MYSQL_SERVER = process.env.ORDER_TRACKING_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306';

const reachable = async (): Promise<boolean> => {
  try {
    const conn = await createConnection({ uri: MYSQL_SERVER, connectTimeout: 2_000 });
    await conn.end();
    return true;
  } catch {
    return false;
  }
};

/** Outside CI a missing server skips the suite; in CI it must fail. */
export const skipMysql = async (): Promise<boolean> => process.env.CI !== 'true' && !(await reachable());
