/**
 * The failures worth running a task again for (SPEC §7): the server could not be reached or dropped
 * the connection, or a concurrent transaction won (a deadlock, a serialization failure, a lock wait
 * that timed out). Everything else (bad SQL, bad data, a drift, a timeout) fails at once: running
 * it again would fail the same way, later.
 */

/** Node's codes for a connection refused or cut (a server restarting, a proxy dropping it). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
/** PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, admin_shutdown, cannot_connect_now. */
const POSTGRES_STATES: ReadonlyMap<string, string> = new Map([
  ['40001', 'serialization failure'],
  ['40P01', 'deadlock'],
  ['57P01', 'server shutting down'],
  ['57P03', 'server starting up'],
]);
/** MySQL error numbers: ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT. */
const MYSQL_ERRNOS: ReadonlyMap<number, string> = new Map([
  [1213, 'deadlock'],
  [1205, 'lock wait timeout'],
]);

/** The error and the errors it wraps (`cause`), outermost first. */
const chain = function* (error: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    yield e as Record<string, unknown>;
  }
};

/**
 * Why `error` is transient (`connection reset`, `deadlock`…), or `null` when it is not.
 * `engineSays` is the warehouse's own rule (Redshift's 1023) for what this list cannot know.
 */
export const transientReason = (error: unknown, engineSays?: (error: unknown) => boolean): string | null => {
  if (engineSays?.(error) === true) return 'concurrent transaction conflict';
  for (const e of chain(error)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined && CONNECTION_CODES.has(code))
      return code === 'ECONNREFUSED' ? 'connection refused' : 'connection reset';
    const state = code !== undefined ? POSTGRES_STATES.get(code) : undefined;
    if (state) return state;
    const errno = typeof e.errno === 'number' ? MYSQL_ERRNOS.get(e.errno) : undefined;
    if (errno) return errno;
  }
  return null;
};
