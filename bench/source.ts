/**
 * The benchmark's sources: one generator written to the embedded SQLite file and, for the server
 * run, to the given MySQL/MariaDB database too, chunk by chunk, so both engines read identical rows.
 * The MySQL writer runs in a worker thread (`mysql-worker.ts`): its formatting and its waits on the
 * server overlap with the generator and SQLite on this thread.
 */
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { UserError } from '../src/config/errors.js';
import { redact } from '../src/config/urls.js';
import { openSqliteWriter, type SourceWriter, type WriteChunk } from '../src/generator/index.js';
import { SOURCE_TABLE_NAMES } from '../src/generator/source-ddl.js';
import { packChunk, type FromMysqlWorker, type MysqlWorkerData, type ToMysqlWorker } from './mysql-worker.js';

/** The sources' writer: `apply` hands MySQL its chunk and returns before MySQL has committed it. */
export interface SourceWriters extends SourceWriter {
  /** Resolves once MySQL has committed every chunk applied so far; rejects with its failure. */
  flush(): Promise<void>;
  /** Flushes, ends the MySQL thread and closes SQLite; rejects if MySQL did not commit everything. */
  close(): Promise<void>;
}

/**
 * Chunks handed to the MySQL thread and not yet committed: the one it writes and the next, so it
 * need not wait for the generator, while memory holds at most two chunks in flight.
 */
const MAX_IN_FLIGHT = 2;

/** How long `close` waits for the thread to end on its own before terminating it. */
const END_TIMEOUT_MS = 10_000;

// A Worker does not inherit tsx's loader (Node 20 ignores `--import` in a Worker's execArgv), so
// the thread starts from this ES module, which registers tsx before loading the TypeScript.
const bootstrap = new URL(
  `data:text/javascript,${encodeURIComponent(
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\n` +
      'register();\n' +
      `const { serveMysqlWriter } = await import(${JSON.stringify(new URL('./mysql-worker.ts', import.meta.url).href)});\n` +
      'serveMysqlWriter();\n',
  )}`,
);

/** The error the thread reported, rebuilt with its causes. */
const rebuildError = (messages: readonly string[]): Error =>
  messages.reduceRight<Error | undefined>(
    (cause, message) => new Error(message, cause ? { cause } : undefined),
    undefined,
  ) ?? new Error('the MySQL writer thread failed');

interface MysqlThread {
  /** Resolves once the thread has connected and created the tables. */
  readonly ready: Promise<void>;
  apply(chunk: WriteChunk): Promise<void>;
  flush(): Promise<void>;
  /** Flushes and ends the thread (terminating it if it does not end); rejects with any failure. */
  close(): Promise<void>;
}

/** Starts the MySQL writer thread. Every method rejects with the thread's first failure. */
const startMysqlThread = (url: string): MysqlThread => {
  const workerData: MysqlWorkerData = { url };
  const worker = new Worker(bootstrap, { workerData });
  let ready = false;
  let inFlight = 0;
  let closing = false;
  let exited = false;
  let failure: Error | null = null;
  let waiting: (() => void)[] = [];
  const wake = (): void => {
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve();
  };
  const fail = (error: Error): void => {
    failure ??= error;
    wake();
  };
  const ended = new Promise<void>((resolve) =>
    worker.on('exit', (code) => {
      exited = true;
      if (!closing) fail(new Error(`the MySQL writer thread ended (exit code ${code}) before it was closed`));
      wake();
      resolve();
    }),
  );
  worker.on('message', (message: FromMysqlWorker) => {
    if (message.type === 'ready') ready = true;
    else if (message.type === 'applied') inFlight--;
    else fail(rebuildError(message.messages));
    wake();
  });
  worker.on('error', (error) =>
    fail(new Error(`the MySQL writer thread failed: ${error.message}`, { cause: error })),
  );
  worker.on('messageerror', (error) =>
    fail(new Error(`the MySQL writer thread sent an unreadable message: ${error.message}`)),
  );

  // Waits for `done` or the first failure; only resolved promises are created, so a failure nobody
  // waits for is never an unhandled rejection.
  const until = async (done: () => boolean): Promise<void> => {
    while (failure === null && !done()) await new Promise<void>((resolve) => waiting.push(resolve));
    if (failure !== null) throw failure;
  };
  const send = (message: ToMysqlWorker, transfer: ArrayBuffer[] = []): void =>
    worker.postMessage(message, transfer);
  const flush = (): Promise<void> => until(() => inFlight === 0);

  return {
    ready: until(() => ready),
    apply: async (chunk) => {
      await until(() => inFlight < MAX_IN_FLIGHT);
      if (closing) throw new Error('bench: the MySQL writer is closed');
      const packed = packChunk(chunk);
      inFlight++;
      send({ type: 'apply', chunk: packed.chunk }, packed.transfer);
    },
    flush,
    close: async () => {
      const flushed = await flush().then(
        () => null,
        (error: unknown) => error,
      );
      if (!closing && !exited) {
        closing = true;
        if (failure === null) send({ type: 'close' });
        const timer = setTimeout(() => void worker.terminate(), END_TIMEOUT_MS);
        await ended;
        clearTimeout(timer);
      }
      closing = true;
      if (flushed !== null) throw flushed;
      if (failure !== null) throw failure;
    },
  };
};

/**
 * Opens the writers and creates the source tables; a source that already holds rows is refused.
 * `apply` returns once SQLite has committed the chunk and MySQL has it queued; `flush` waits for
 * MySQL.
 */
export const openSourceWriters = async (
  sqlitePath: string,
  mysqlUrl: string | null,
): Promise<SourceWriters> => {
  let mysqlThread: MysqlThread | null = null;
  let sqlite: SourceWriter | null = null;
  try {
    if (mysqlUrl) {
      mysqlThread = startMysqlThread(mysqlUrl);
      await mysqlThread.ready;
    }
    sqlite = openSqliteWriter(sqlitePath);
    await sqlite.createTables();
  } catch (cause) {
    await mysqlThread?.close().catch(() => undefined);
    await sqlite?.close().catch(() => undefined);
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new UserError(
      /already holds rows/.test(reason) && mysqlUrl
        ? `bench: source ${redact(mysqlUrl)} is not empty; give an empty database (the bench writes its own rows, ids from 1)`
        : `bench: ${reason}`,
      2,
      { cause },
    );
  }
  const mysqlWriter = mysqlThread;
  const sqliteWriter = sqlite;
  return {
    createTables: async () => undefined,
    apply: async (chunk) => {
      // MySQL first: the thread writes it while SQLite writes here.
      await mysqlWriter?.apply(chunk);
      await sqliteWriter.apply(chunk);
    },
    flush: async () => {
      await mysqlWriter?.flush();
    },
    close: async () => {
      try {
        await mysqlWriter?.close();
      } finally {
        await sqliteWriter.close();
      }
    },
  };
};

/** `SQLite 3.x` and, for the server run, `MariaDB 10.x`: engine versions for the report. */
export const sourceVersions = async (sqlitePath: string, mysqlUrl: string | null): Promise<string[]> => {
  const db = new Database(sqlitePath, { readonly: true });
  const sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  db.close();
  const versions = [`SQLite ${sqlite}`];
  if (mysqlUrl) {
    const conn = await mysql.createConnection({ uri: mysqlUrl });
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('select version() as v');
      const v = String(rows[0]?.v ?? '');
      versions.push(/mariadb/i.test(v) ? `MariaDB ${v}` : `MySQL ${v}`);
    } finally {
      await conn.end();
    }
  }
  return versions;
};

/**
 * Drops the source tables the bench itself wrote for the previous SF of the same invocation (a
 * source that already holds rows is otherwise refused, rightly, at the first SF).
 */
export const dropSourceTables = async (mysqlUrl: string): Promise<void> => {
  const conn = await mysql.createConnection({ uri: mysqlUrl });
  try {
    for (const table of SOURCE_TABLE_NAMES) await conn.query(`drop table if exists \`${table}\``);
  } finally {
    await conn.end();
  }
};
