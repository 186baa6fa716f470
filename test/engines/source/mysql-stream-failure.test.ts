/**
 * A MySQL source whose connection dies or stalls in the middle of a stream (SPEC §7: a stuck run
 * holds the lease): the server kills the session, a proxy in between closes, resets or stops
 * forwarding. Every case must end the read with an error naming the table and the source, never
 * leave the reader waiting; a consumer that is merely slow must not be mistaken for a stall.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, type Connection } from 'mysql2/promise';
import { parseSourceUrl } from '../../../src/config/urls.js';
import { openSource } from '../../../src/engines/source/open.js';
import type { CursorRange, Source, SourceSnapshot } from '../../../src/engines/source/source.js';
import type { Column, Row } from '../../../src/engines/types.js';
import { startTcpProxy, type Break } from '../../support/tcp-proxy.js';
import { mysqlServer, runMysqlSuites } from './harness.js';

const TABLE = 'ot_wide';
const ROWS = 20_000;
/** About 1 KB a row: 20 MB, far more than the socket buffers between the server and us hold. */
const NOTE = 'n'.repeat(1_000);
/** The proxy breaks a connection once the server has sent it this much: only the stream does. */
const AFTER_BYTES = 1_000_000;
const BATCH = 500;
const everything: CursorRange = { column: 'id', from: null, to: null };

/** Fails with `what` instead of waiting forever: the bug under test is a read that never ends. */
const settles = <T>(promise: Promise<T>, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after 30 s`)), 30_000);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
};

const drain = async (rows: AsyncIterator<readonly Row[]>): Promise<number> => {
  let n = 0;
  for (let next = await rows.next(); !next.done; next = await rows.next()) n += next.value.length;
  return n;
};

describe.skipIf(!runMysqlSuites)('a MySQL source that drops or stalls mid-stream', () => {
  const database = `ot_test_${randomBytes(6).toString('hex')}`;
  let admin: Connection;
  let columns: Column[];

  const url = (port: number): string => `mysql://${mysqlServer.user}@127.0.0.1:${port}/${database}`;
  const open = (port: number, readTimeoutSeconds?: number): Promise<Source> =>
    openSource(parseSourceUrl(url(port)), readTimeoutSeconds ? { readTimeoutSeconds } : {});

  /** Our stream's session on the server, as another session sees it. */
  const streamingSession = async (): Promise<number> => {
    for (;;) {
      const [rows] = await admin.query(
        `select id from information_schema.processlist
          where db = ? and command = 'Query' and info like ?`,
        [database, `%from \`${TABLE}\`%`],
      );
      const id = (rows as { id: number }[])[0]?.id;
      if (id !== undefined) return id;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const gone = async (id: number): Promise<void> => {
    for (;;) {
      const [rows] = await admin.query('select id from information_schema.processlist where id = ?', [id]);
      if ((rows as unknown[]).length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  beforeAll(async () => {
    admin = await createConnection({ ...mysqlServer, charset: 'utf8mb4' });
    await admin.query(`create database \`${database}\` character set utf8mb4`);
    await admin.query(`use \`${database}\``);
    await admin.query(`create table ${TABLE} (id bigint primary key, order_id varchar(64), note text)`);
    for (let from = 1; from <= ROWS; from += 2_000) {
      const rows = Array.from({ length: 2_000 }, (_, i) => [from + i, `OT${from + i}`, NOTE]);
      await admin.query(`insert into ${TABLE} (id, order_id, note) values ?`, [rows]);
    }
    const source = await open(mysqlServer.port);
    try {
      columns = (await source.describeTable(TABLE)) as Column[];
    } finally {
      await source.close();
    }
  });

  afterAll(async () => {
    await admin?.query(`drop database if exists \`${database}\``);
    await admin?.end();
  });

  /** The source and a snapshot streaming the table, its first batch read unless `firstBatch` is false. */
  const streaming = async (
    port: number,
    readTimeoutSeconds?: number,
    firstBatch = true,
  ): Promise<{ source: Source; snapshot: SourceSnapshot; rows: AsyncIterator<readonly Row[]> }> => {
    const source = await open(port, readTimeoutSeconds);
    const snapshot = await source.snapshot();
    const rows = snapshot.stream(TABLE, columns, everything, BATCH)[Symbol.asyncIterator]();
    if (firstBatch) expect((await rows.next()).value).toHaveLength(BATCH);
    return { source, snapshot, rows };
  };

  /** After the failure the source still opens snapshots, and closing everything settles. */
  const recovers = async (source: Source, snapshot: SourceSnapshot): Promise<void> => {
    await settles(snapshot.close(), 'closing the broken snapshot');
    const fresh = await source.snapshot();
    try {
      expect(await fresh.count(TABLE, everything)).toBe(ROWS);
    } finally {
      await fresh.close();
    }
    await settles(source.close(), 'closing the source');
  };

  const readError = new RegExp(
    `^reading ${TABLE} from source mysql://root@127\\.0\\.0\\.1:\\d+/${database} failed: `,
  );

  it('fails the read when the server kills the session while the consumer holds a batch', async () => {
    const { source, snapshot, rows } = await streaming(mysqlServer.port);
    // The consumer is busy with its batch: our socket is paused and the server blocks writing.
    const id = await streamingSession();
    await admin.query(`kill ${id}`);
    await gone(id);
    await expect(settles(drain(rows), 'reading after the kill')).rejects.toThrow(readError);
    await recovers(source, snapshot);
  });

  it('fails the read when the server kills the session while rows flow', async () => {
    const proxy = await startTcpProxy(mysqlServer, AFTER_BYTES, 'hold');
    try {
      const { source, snapshot, rows } = await streaming(proxy.port);
      const reading = drain(rows);
      reading.catch(() => undefined);
      // The proxy stops reading the server mid-result: the session waits in `Writing to net`.
      await proxy.broken;
      const id = await streamingSession();
      await admin.query(`kill ${id}`);
      await gone(id);
      proxy.release();
      await expect(settles(reading, 'reading after the kill')).rejects.toThrow(readError);
      await recovers(source, snapshot);
    } finally {
      await proxy.close();
    }
  });

  for (const how of ['destroy', 'reset'] as const satisfies readonly Break[])
    it(`fails the read when a proxy in between ${how === 'destroy' ? 'closes' : 'resets'} the connection`, async () => {
      const proxy = await startTcpProxy(mysqlServer, AFTER_BYTES, how);
      try {
        // A reset may come before the first batch is read: the client drops what it had not read.
        const { source, snapshot, rows } = await streaming(proxy.port, undefined, false);
        await expect(settles(drain(rows), `reading through a proxy that ${how}s`)).rejects.toThrow(readError);
        await recovers(source, snapshot);
      } finally {
        await proxy.close();
      }
    });

  it('fails a read that gets no data for longer than the read timeout', async () => {
    const proxy = await startTcpProxy(mysqlServer, AFTER_BYTES, 'stall');
    try {
      const { source, snapshot, rows } = await streaming(proxy.port, 2);
      const error = await settles(drain(rows), 'reading through a stalled proxy').then(
        () => new Error('the read ended'),
        (e: unknown) => e as Error,
      );
      expect(error.message).toMatch(readError);
      expect(error.message).toMatch(/stalled: no data from the server for 2 s/);
      expect(error.message).toMatch(/sourceReadTimeoutSeconds/);
      await settles(snapshot.close(), 'closing the stalled snapshot');
      await settles(source.close(), 'closing the source');
    } finally {
      await proxy.close();
    }
  });

  it('does not count the time the consumer keeps a batch as a stall', async () => {
    const { source, snapshot, rows } = await streaming(mysqlServer.port, 1);
    // Longer than the read timeout, all of it spent by the consumer, none waiting on the server.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await settles(drain(rows), 'reading after a slow batch')).toBe(ROWS - BATCH);
    expect(await snapshot.count(TABLE, everything)).toBe(ROWS);
    await snapshot.close();
    await source.close();
  });

  it('closes a source whose snapshot is still mid-stream, failing that stream', async () => {
    const { source, rows } = await streaming(mysqlServer.port);
    // A run that stops (SIGTERM) closes its source while a table's stream waits on its consumer.
    await settles(source.close(), 'closing the source under an open stream');
    await expect(settles(drain(rows), 'reading after the source closed')).rejects.toThrow(readError);
  });
});
