/**
 * Which failures the runner runs a task again for (SPEC §7), classified from the errors the OS and
 * the drivers really raise: a refused connection (a port nobody listens on), a connection reset
 * wrapped the way the sources wrap it, and errors that must fail at once.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { transientReason } from '../../src/runner/transient.js';

/** The error Node raises connecting to a port nobody listens on. */
const refusedError = async (): Promise<Error> => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', resolve);
  });
};

describe('transient failures', () => {
  it('runs again after a refused connection, also when a source wraps it', async () => {
    const refused = await refusedError();
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(transientReason(refused)).toBe('connection refused');
    const wrapped = new Error('reading uni_tracking_spath from source mysql://root@h/db failed', {
      cause: refused,
    });
    expect(transientReason(wrapped)).toBe('connection refused');
  });

  it('runs again on the engine rule the list cannot know (Redshift 1023)', () => {
    expect(transientReason(new Error('1023'), () => true)).toBe('concurrent transaction conflict');
  });

  it('fails at once on anything else: bad SQL, bad data, a timeout', () => {
    expect(transientReason(Object.assign(new Error('syntax error'), { code: '42601' }))).toBeNull();
    expect(transientReason(Object.assign(new Error('duplicate'), { errno: 1062 }))).toBeNull();
    expect(transientReason(new Error('mart_uti timed out after 3 s'), () => false)).toBeNull();
  });
});
