/**
 * The real `order-tracking serve` in a child process, as an operator or a unit manager runs it, for
 * the serve and dashboard suites: started on a free port, its dashboard URL read from its output,
 * and killed after each test if the test did not stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/order-tracking.mjs', import.meta.url));

export interface Served {
  readonly child: ChildProcess;
  /** Resolves once serve prints where the dashboard is; rejects if it exits first. */
  readonly url: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: string;
  stderr: string;
}

const running: Served[] = [];
afterEach(async () => {
  for (let s = running.pop(); s !== undefined; s = running.pop()) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
});

/** Starts `serve --port 0` (a free port) with only `vars` for the pipeline's environment. */
export const startServe = (vars: Record<string, string>, args: readonly string[] = []): Served => {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ORDER_TRACKING_WAREHOUSE: undefined, ORDER_TRACKING_SOURCE: undefined, ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const served: Served = {
    child,
    stdout: '',
    stderr: '',
    url: new Promise((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        served.stdout += chunk.toString();
        const found = /dashboard at (http:\/\/\S+)/.exec(served.stdout);
        if (found) resolve(found[1] as string);
      });
      child.once('exit', () => reject(new Error(`serve exited before listening: ${served.stderr}`)));
    }),
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stderr?.on('data', (chunk: Buffer) => (served.stderr += chunk.toString()));
  served.url.catch(() => undefined);
  running.push(served);
  return served;
};

/** Reads until `done` holds, every 250 ms, failing with the last value after `ms`. */
export const until = async <T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  ms = 60_000,
): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
