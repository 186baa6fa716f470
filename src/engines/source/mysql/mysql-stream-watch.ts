import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { PoolConnection } from 'mysql2';

/** The socket under a mysql2 connection (not in its typings). */
export const socketOf = (connection: PoolConnection): Socket | undefined =>
  (connection as unknown as { stream?: Socket }).stream;

/** An error after which the session cannot be used again: the snapshot destroys it. */
export const sessionLost = (message: string, cause?: unknown): Error =>
  Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { fatal: true });

/** The one line for a source that sent nothing for the read timeout, naming the setting to raise. */
export const stallReason = (seconds: number, waitingFor: string): string =>
  `the read stalled: no data from the server for ${seconds} s while waiting for ${waitingFor} ` +
  `(raise sourceReadTimeoutSeconds or ORDER_TRACKING_SOURCE_READ_TIMEOUT if the server is only slow)`;

/**
 * Runs one statement on `connection` and fails it once the server has sent nothing for
 * `timeoutMs`: the socket is closed, the driver fails the statement, and the error says the read
 * stalled. Not mysql2's own `timeout`: its timer outlives a connection lost mid-statement and holds
 * the process open for the whole timeout.
 */
export const answered = async <T>(
  connection: PoolConnection,
  timeoutMs: number,
  statement: () => Promise<T>,
): Promise<T> => {
  const socket = socketOf(connection);
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    socket?.destroy();
  }, timeoutMs);
  const onBytes = (): void => void timer.refresh();
  socket?.on('data', onBytes);
  try {
    return await statement();
  } catch (error) {
    if (stalled) throw sessionLost(stallReason(timeoutMs / 1000, 'an answer'), error);
    throw error;
  } finally {
    clearTimeout(timer);
    socket?.off('data', onBytes);
  }
};

/**
 * Turns every way a streamed result can stop arriving into an error for its reader. mysql2 reports
 * a lost connection to a query through its callback, and a streamed query has none: the error goes
 * to the connection and the stream would wait forever, holding the run and its lease (SPEC §7).
 * So: the connection's error or its socket closing fails the read; so does an end of the result
 * without its final packet, and no bytes for the read timeout while the reader waits for rows. Time
 * the reader spends with a batch does not count: its socket is paused then, on purpose.
 */
export class ResultWatch {
  #fail: ((error: Error) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #finalPacket = false;
  #queryFailed = false;
  readonly #stop: (() => void)[] = [];

  constructor(
    private readonly connection: PoolConnection,
    private readonly query: EventEmitter,
    private readonly readTimeoutMs: number,
  ) {
    // The driver emits `end` after the result's last packet, and also after an error packet.
    const onQueryError = (): void => void (this.#queryFailed = true);
    const onQueryEnd = (): void => void (this.#finalPacket = !this.#queryFailed);
    query.once('error', onQueryError);
    query.once('end', onQueryEnd);
    this.#stop.push(() => {
      query.off('error', onQueryError);
      query.off('end', onQueryEnd);
    });
  }

  /** Starts reporting failures of the session to `fail` (at most one is acted on). */
  start(fail: (error: Error) => void): void {
    this.#fail = fail;
    const onError = (error: Error): void =>
      this.fail(
        sessionLost(`the connection was lost before the result's last row (${error.message})`, error),
      );
    const socket = socketOf(this.connection);
    const onClose = (): void => this.fail(sessionLost("the connection closed before the result's last row"));
    const onBytes = (): void => void this.#timer?.refresh();
    this.connection.on('error', onError);
    socket?.on('close', onClose);
    socket?.on('data', onBytes);
    this.#stop.push(() => {
      this.connection.off('error', onError);
      socket?.off('close', onClose);
      socket?.off('data', onBytes);
    });
    if (socket?.destroyed) onClose();
  }

  /** Whether the server sent the result's final packet (an `end` without it is a lost result). */
  get complete(): boolean {
    return this.#finalPacket;
  }

  /** The reader waits for rows (`true`) or holds them (`false`): only waiting counts toward a stall. */
  waiting(on: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!on) return;
    const seconds = this.readTimeoutMs / 1000;
    this.#timer = setTimeout(() => this.fail(sessionLost(stallReason(seconds, 'rows'))), this.readTimeoutMs);
    // The socket the reader waits on keeps the process alive; this timer alone must not.
    this.#timer.unref();
  }

  /** Fails the read from outside (the source is closing, the run is stopping). */
  fail(error: Error): void {
    const fail = this.#fail;
    this.#fail = undefined;
    this.waiting(false);
    fail?.(error);
  }

  stop(): void {
    this.#fail = undefined;
    this.waiting(false);
    for (const undo of this.#stop.splice(0)) undo();
  }
}
