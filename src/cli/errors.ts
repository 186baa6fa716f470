import { UserError } from '../config/errors.js';

/** Prints one line for the user and returns the exit code (SPEC §8); the stack only with --verbose. */
export const reportError = (error: unknown, verbose: boolean): number => {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0] ?? message;
  if (error instanceof UserError) {
    process.stderr.write(`order-tracking: ${line}\n`);
    if (verbose && error.cause)
      process.stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.exitCode;
  }
  process.stderr.write(`order-tracking: ${line}${verbose ? '' : ' (run with --verbose for details)'}\n`);
  if (verbose && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return 1;
};
