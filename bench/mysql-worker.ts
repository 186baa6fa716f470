/**
 * The bench's MySQL/MariaDB writer in a thread of its own (`source.ts` starts it), so formatting
 * rows and waiting on the server overlap with the generator and SQLite on the main thread.
 *
 * The thread opens `openMysqlWriter(url)`, creates the tables and answers `ready`; then it applies
 * the chunks it receives in order, one transaction each, answering `applied` after each commit. The
 * first failure is answered with `failed` (the error's message and its causes'), after which the
 * thread closes its connection and ends. `close` closes the connection and ends the thread.
 *
 * Chunks cross the thread boundary in a packed form (`packChunk`): per table, one array per column,
 * all-number columns as transferred Float64Arrays; cloning thousands of row objects costs the
 * receiving thread far more than rebuilding them from columns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  openMysqlWriter,
  SOURCE_TABLES,
  SOURCE_TABLE_NAMES,
  type OrderRow,
  type ScanRow,
  type SourceWriter,
  type TrackingRow,
  type WriteChunk,
} from '../src/generator/index.js';

/** What the thread is started with (`workerData`). */
export interface MysqlWorkerData {
  readonly url: string;
}

/** One column's values in row order. */
export type PackedColumn = Float64Array | readonly unknown[];

/** A WriteChunk as columns: `tables[t][c]` is column `c` of `SOURCE_TABLES[SOURCE_TABLE_NAMES[t]]`. */
export interface PackedChunk {
  readonly fromAt: number;
  readonly toAt: number;
  readonly tables: readonly (readonly PackedColumn[])[];
}

export type ToMysqlWorker =
  { readonly type: 'apply'; readonly chunk: PackedChunk } | { readonly type: 'close' };

export type FromMysqlWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'applied' }
  /** The error's message first, then its causes' messages. */
  | { readonly type: 'failed'; readonly messages: readonly string[] };

type Row = OrderRow | TrackingRow | ScanRow;

/** The packed chunk and the buffers to transfer with it (they are detached on the sender's side). */
export const packChunk = (chunk: WriteChunk): { chunk: PackedChunk; transfer: ArrayBuffer[] } => {
  const transfer: ArrayBuffer[] = [];
  const tables = SOURCE_TABLE_NAMES.map((table) => {
    const rows = chunk[table] as readonly Row[];
    return SOURCE_TABLES[table].columns.map((column): PackedColumn => {
      const name = column.name as keyof Row;
      const numbers = new Float64Array(rows.length);
      let r = 0;
      for (; r < rows.length; r++) {
        const value = (rows[r] as Row)[name];
        if (typeof value !== 'number') break;
        numbers[r] = value;
      }
      if (r === rows.length) {
        transfer.push(numbers.buffer);
        return numbers;
      }
      // A column with nulls or strings goes as a plain array.
      return rows.map((row) => row[name]);
    });
  });
  return { chunk: { fromAt: chunk.fromAt, toAt: chunk.toAt, tables }, transfer };
};

/** The WriteChunk a PackedChunk was made from (row objects with the source's column names). */
export const unpackChunk = (packed: PackedChunk): WriteChunk => {
  const [ecs, uti, spath] = SOURCE_TABLE_NAMES.map((table, t) => {
    const names = SOURCE_TABLES[table].columns.map((c) => c.name);
    const columns = packed.tables[t] ?? [];
    const count = columns[0]?.length ?? 0;
    const rows = new Array<Record<string, unknown>>(count);
    for (let r = 0; r < count; r++) {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < names.length; c++) row[names[c] as string] = columns[c]?.[r];
      rows[r] = row;
    }
    return rows;
  });
  return {
    fromAt: packed.fromAt,
    toAt: packed.toAt,
    ecs_order_info: ecs as unknown as OrderRow[],
    uni_tracking_info: uti as unknown as TrackingRow[],
    uni_tracking_spath: spath as unknown as ScanRow[],
  };
};

const messagesOf = (error: unknown): string[] => {
  const messages: string[] = [];
  for (let e = error; e !== undefined && e !== null && messages.length < 8;) {
    messages.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return messages;
};

/** The thread's body; the bootstrap in `source.ts` calls it once tsx's loader is registered. */
export const serveMysqlWriter = (): void => {
  const port = parentPort;
  if (port === null) throw new Error('bench/mysql-worker.ts runs in a worker thread (see bench/source.ts)');
  const { url } = workerData as MysqlWorkerData;
  const post = (message: FromMysqlWorker): void => port.postMessage(message);
  let writer: SourceWriter | null = null;
  let ended = false;

  // Ends once: reports the failure if any (or the close's own), closes the connection, then the
  // port, so the thread ends with nothing left running.
  const end = async (failure?: { error: unknown }): Promise<void> => {
    if (ended) return;
    ended = true;
    if (failure) post({ type: 'failed', messages: messagesOf(failure.error) });
    const w = writer;
    writer = null;
    try {
      await w?.close();
    } catch (error) {
      if (!failure) post({ type: 'failed', messages: messagesOf(error) });
    } finally {
      port.close();
    }
  };
  const fail = (error: unknown): Promise<void> => end({ error });

  const start = async (): Promise<void> => {
    writer = await openMysqlWriter(url);
    await writer.createTables();
    post({ type: 'ready' });
  };
  const handle = async (message: ToMysqlWorker): Promise<void> => {
    if (ended) return;
    if (message.type === 'close') return end();
    if (writer === null) throw new Error('bench: the MySQL writer thread got a chunk before it was ready');
    await writer.apply(unpackChunk(message.chunk));
    post({ type: 'applied' });
  };

  // One message at a time, in arrival order: the chunks' transactions follow the generator's order.
  let queue = start().catch(fail);
  port.on('message', (message: ToMysqlWorker) => {
    queue = queue.then(() => handle(message)).catch(fail);
  });
};
