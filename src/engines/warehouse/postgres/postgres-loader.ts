import { once } from 'node:events';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { CopyStreamQuery } from 'pg-copy-streams';
import type { Column, CopyTextBatch, Row } from '../../types.js';
import { Quarantine } from '../quarantine.js';
import type { Dialect, LoadResult } from '../warehouse.js';
import { CopyTextEncoder } from './postgres-copy-text.js';

/**
 * Bytes of encoded batches buffered ahead of the socket: the next batch is encoded while the
 * previous one is still being sent, and memory stays bounded by this plus one batch.
 */
const highWaterMark = 1 << 20;

/**
 * `COPY schema.table (columns) FROM STDIN` in text format, one chunk per batch with backpressure.
 * Returns the rows the server reports loaded, and the values written as NULL or reported on the
 * way (`CopyTextEncoder`).
 *
 * `signal` aborts the load at once with CopyFail. A server-side cancel alone would not do: the
 * server only notices it when the next batch arrives, which a slow source may take long to send.
 *
 * Too many bad values (`Quarantine`) or a failing `rows` iterator aborts the COPY with CopyFail,
 * and a server error ends it; either way nothing of this COPY stays in the table, the promise
 * rejects, and the session is ready for the next statement (inside a transaction: ROLLBACK).
 */
export const copyInto = async (
  client: pg.ClientBase,
  dialect: Dialect,
  schema: string,
  table: string,
  columns: readonly Column[],
  rows: AsyncIterable<readonly Row[]>,
  signal?: AbortSignal,
): Promise<LoadResult> => {
  const encoder = new CopyTextEncoder(`${schema}.${table}`, columns, dialect.capabilities);
  const loaded = await copyBatches(
    client,
    dialect,
    schema,
    table,
    columns,
    rows,
    (batch) => encoder.encode(batch),
    signal,
  );
  return { rows: loaded, quarantined: encoder.quarantined };
};

/**
 * `copyInto` for batches a source already wrote as COPY text (`SourceSnapshot.streamCopyText`),
 * with the values the source quarantined while writing them.
 */
export const copyTextInto = async (
  client: pg.ClientBase,
  dialect: Dialect,
  schema: string,
  table: string,
  columns: readonly Column[],
  batches: AsyncIterable<CopyTextBatch>,
  signal?: AbortSignal,
): Promise<LoadResult> => {
  const quarantine = new Quarantine(`${schema}.${table}`);
  const loaded = await copyBatches(
    client,
    dialect,
    schema,
    table,
    columns,
    batches,
    (batch) => {
      quarantine.addAll(batch.quarantined);
      return batch.text;
    },
    signal,
  );
  return { rows: loaded, quarantined: quarantine.values };
};

const copyBatches = async <B>(
  client: pg.ClientBase,
  dialect: Dialect,
  schema: string,
  table: string,
  columns: readonly Column[],
  rows: AsyncIterable<B>,
  encode: (batch: B) => Buffer,
  signal?: AbortSignal,
): Promise<number> => {
  const target = `${schema}.${table}`;
  if (columns.length === 0) throw new Error(`cannot load ${target}: no columns given`);
  const names = columns.map((c) => dialect.quote(c.name)).join(', ');
  const copy = client.query(
    copyStreams.from(`copy ${dialect.table(schema, table)} (${names}) from stdin`, { highWaterMark }),
  );

  // The server's error (or the connection's, or a cancel's) arrives as an 'error' event, possibly
  // while we await the row source: record it so it is never unhandled, and race it (and `signal`)
  // against every wait so a failed or cancelled load rejects at once.
  // Not Promise.race against one never-settling promise: every race would leave a reaction on it
  // holding that wait's result (a whole batch) until the load ends, i.e. memory grew with the window.
  let serverError: Error | undefined;
  let failure: Error | undefined;
  const waiting = new Set<(error: Error) => void>();
  const onFailure = (error: Error): void => {
    failure ??= error;
    for (const reject of waiting) reject(error);
    waiting.clear();
  };
  const orFail = <T>(promise: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.add(reject);
      promise.then(
        (value) => {
          waiting.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          waiting.delete(reject);
          reject(error);
        },
      );
    });
  copy.on('error', (error: Error) => {
    serverError ??= error;
    onFailure(error);
  });
  const onAbort = () =>
    onFailure(new Error(`cannot load ${target}: canceling statement due to user request`));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const until = (event: 'drain' | 'finish') => orFail(once(copy, event));

  const iterator = rows[Symbol.asyncIterator]();
  let awaitingSource = false;
  try {
    for (;;) {
      const next = iterator.next();
      awaitingSource = true;
      const step = await orFail(next);
      awaitingSource = false;
      if (step.done) break;
      const chunk = encode(step.value);
      if (chunk.length === 0) continue;
      if (!copy.write(chunk)) await until('drain');
    }
    copy.end();
    await until('finish');
    return copy.rowCount;
  } catch (error) {
    if (!serverError) await abort(copy, error);
    // Close the source (its cursor, its snapshot); if it is still busy producing a batch, do not
    // wait for it: the load has failed either way.
    const closing = Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (!awaitingSource) await closing;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
};

/**
 * Sends CopyFail and waits for the server's answer: the COPY is rolled back and the connection
 * leaves COPY mode before the caller runs anything else on it.
 */
const abort = (copy: CopyStreamQuery, error: unknown): Promise<void> =>
  new Promise<void>((resolve) => {
    copy.once('close', () => resolve());
    copy.destroy(error instanceof Error ? error : new Error(String(error)));
  });
