/**
 * A MySQL stream stopped mid-read (the run is stopping, or its consumer breaks off) must stop on the
 * server too. Closing our socket is not enough: a server busy producing rows only notices at its
 * next write, and until then keeps its thread, its read view and the statement running. The source
 * cancels the statement with `KILL QUERY` from a session of its own.
 *
 * The table streamed is a view whose rows take the server 2 s each past the first few, and are
 * wide enough that those first rows reach us at once: the server is mid-statement, sleeping.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type Connection } from 'mysql2/promise';
import { parseSourceUrl } from '../../../src/config/urls.js';
import { openSource } from '../../../src/engines/source/open.js';
import type { CursorRange, Source } from '../../../src/engines/source/source.js';
import type { Column, Row } from '../../../src/engines/types.js';
import { mysqlServer, runMysqlSuites } from './harness.js';

const BASE = 'ot_slow_base';
const VIEW = 'ot_slow';
const FAST_ROWS = 20;
const ROWS = 60;
const BATCH = 10;
const everything: CursorRange = { column: 'id', from: null, to: null };
/** How long the statement may keep running on the server once the read is stopped. */
const STOP_WITHIN_MS = 3_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails with `what` instead of waiting forever. */
const settles = <T>(promise: Promise<T>, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after 30 s`)), 30_000);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
};

describe.skipIf(!runMysqlSuites)('a MySQL stream stopped mid-read', () => {
  const database = `ot_test_${randomBytes(6).toString('hex')}`;
  let admin: Connection;
  let columns: Column[];

  const open = (signal?: AbortSignal): Promise<Source> =>
    openSource(parseSourceUrl(`mysql://${mysqlServer.user}@127.0.0.1:${mysqlServer.port}/${database}`), {
      ...(signal ? { signal } : {}),
    });

  /** The server thread running our stream's statement, as another session sees it. */
  const streamingThread = async (): Promise<number> => {
    for (;;) {
      const [rows] = await admin.query(
        `select id from information_schema.processlist
          where db = ? and command = 'Query' and id <> connection_id() and info like ?`,
        [database, `%from \`${VIEW}\`%`],
      );
      const id = (rows as { id: number }[])[0]?.id;
      if (id !== undefined) return id;
      await sleep(20);
    }
  };

  /** How long `thread` still ran a statement (0 when it had stopped), up to `STOP_WITHIN_MS`. */
  const stillRunning = async (thread: number, since: number): Promise<number> => {
    for (;;) {
      const [rows] = await admin.query(
        `select id from information_schema.processlist where id = ? and command = 'Query'`,
        [thread],
      );
      const elapsed = Date.now() - since;
      if ((rows as unknown[]).length === 0) return 0;
      if (elapsed > STOP_WITHIN_MS) return elapsed;
      await sleep(50);
    }
  };

  /** A source streaming the slow view, its first batch read (the server is now sleeping on a row). */
  const streaming = async (signal?: AbortSignal) => {
    const source = await open(signal);
    const snapshot = await source.snapshot();
    const rows = snapshot.stream(VIEW, columns, everything, BATCH)[Symbol.asyncIterator]();
    expect((await rows.next()).value).toHaveLength(BATCH);
    const thread = await streamingThread();
    return { source, rows, thread };
  };

  beforeAll(async () => {
    admin = await createConnection({ ...mysqlServer, charset: 'utf8mb4' });
    await admin.query(`create database \`${database}\` character set utf8mb4`);
    await admin.query(`use \`${database}\``);
    await admin.query(`create table ${BASE} (id bigint primary key, note text)`);
    const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, 'n'.repeat(4_000)]);
    await admin.query(`insert into ${BASE} (id, note) values ?`, [rows]);
    // The first rows fill the server's network buffer and reach us; each later one takes 2 s.
    await admin.query(
      `create view ${VIEW} as select id, note, sleep(if(id <= ${FAST_ROWS}, 0, 2)) as pause from ${BASE}`,
    );
    const source = await open();
    try {
      columns = (await source.describeTable(VIEW)) as Column[];
    } finally {
      await source.close();
    }
  });

  afterAll(async () => {
    if (!admin) return;
    // A statement the test failed to stop would hold the view's metadata lock against the drop.
    const [threads] = await admin.query(
      'select id from information_schema.processlist where db = ? and id <> connection_id()',
      [database],
    );
    for (const { id } of threads as { id: number }[])
      await admin.query(`kill ${Number(id)}`).catch(() => undefined);
    await admin.query(`drop database if exists \`${database}\``);
    await admin.end();
  });

  it('cancels the statement on the server when the run stops', async () => {
    const stop = new AbortController();
    const { source, rows, thread } = await streaming(stop.signal);
    const reading: Promise<IteratorResult<readonly Row[]>> = rows.next();
    reading.catch(() => undefined);
    const stopped = Date.now();
    stop.abort();
    await expect(settles(reading, 'reading after the run stopped')).rejects.toThrow(/the run is stopping/);
    expect(await stillRunning(thread, stopped)).toBe(0);
    await settles(source.close(), 'closing the source');
  });

  it('cancels the statement on the server when the consumer breaks off', async () => {
    const { source, rows, thread } = await streaming();
    const stopped = Date.now();
    await settles(Promise.resolve(rows.return?.(undefined)), 'breaking off the stream');
    expect(await stillRunning(thread, stopped)).toBe(0);
    await settles(source.close(), 'closing the source');
  });
});
