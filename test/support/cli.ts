import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/order-tracking.mjs', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI in a child process, as a user or a scheduler would. */
export const cli = (
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = {
      ...process.env,
      ORDER_TRACKING_WAREHOUSE: undefined,
      ORDER_TRACKING_SOURCE: undefined,
      ...env,
    };
    const clean = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const child = spawn(process.execPath, [bin, ...args], {
      env: clean,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
