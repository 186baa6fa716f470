import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/order-tracking.mjs', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The run outlived `deadlineMs` and was killed. */
  readonly hung: boolean;
}

export interface CliOptions {
  /**
   * Kill the run (SIGKILL) if it is still going after this long: the bugs some tests look for are
   * runs that never end, and a test must report one rather than wait with it.
   */
  readonly deadlineMs?: number;
  /**
   * Without root's way past file modes when the tests run as root (`setpriv` drops the
   * DAC_OVERRIDE and DAC_READ_SEARCH capabilities: a chmod 0444 file is then read-only for the CLI
   * too, as for a real reader, while the checkout stays readable wherever it is), with only `PATH`
   * and `HOME=/tmp` from this process's environment.
   */
  readonly unprivileged?: boolean;
}

/** Runs the real CLI in a child process, as a user or a scheduler would. */
export const cli = (
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: CliOptions = {},
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const base: Record<string, string | undefined> = options.unprivileged
      ? { PATH: process.env.PATH ?? '', HOME: '/tmp' }
      : { ...process.env, ORDER_TRACKING_WAREHOUSE: undefined, ORDER_TRACKING_SOURCE: undefined };
    const merged: Record<string, string | undefined> = { ...base, ...env };
    const clean = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const dropped = 'dac_override,dac_read_search'.replace(/\w+/g, '-$&');
    const command =
      options.unprivileged === true && process.getuid?.() === 0
        ? ['setpriv', '--bounding-set', dropped, '--inh-caps', dropped, process.execPath]
        : [process.execPath];
    const child = spawn(command[0]!, [...command.slice(1), bin, ...args], {
      env: clean,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const timer =
      options.deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            hung = true;
            child.kill('SIGKILL');
          }, options.deadlineMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
