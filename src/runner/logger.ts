import { pino } from 'pino';
import { bigintAsJson } from '../engines/types.js';

export type Logger = pino.Logger;

const levels: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** One human line per record on stderr: `warning: message key=value …` (stdout is for output). */
const humanLines = {
  write(line: string): void {
    const {
      level,
      msg,
      time: _t,
      ...fields
    } = JSON.parse(line) as Record<string, unknown> & { level: number; msg: string };
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, bigintAsJson)}`)
      .join(' ');
    process.stderr.write(`${levels[level] ?? level}: ${msg}${extra ? ` ${extra}` : ''}\n`);
  },
};

/** Warnings by default; `--verbose` (or `ORDER_TRACKING_LOG_LEVEL`) shows debug lines. */
export const createLogger = (verbose: boolean): Logger =>
  pino(
    { level: process.env.ORDER_TRACKING_LOG_LEVEL ?? (verbose ? 'debug' : 'warn'), base: undefined },
    humanLines,
  );
