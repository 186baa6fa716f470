/** Probes around a cycle: the process's memory, and the mart tasks' per-statement timings. */
import { pino } from 'pino';
import type { Logger } from '../src/runner/logger.js';
import type { MemoryAtPeak, StatementTiming } from './results.js';

const MB = 1024 * 1024;

/** Samples the process memory every 50 ms while `fn` runs. */
export const sampleMemory = async <T>(
  fn: () => Promise<T>,
): Promise<{ value: T; startRssMb: number; peakRssMb: number; atPeak: MemoryAtPeak }> => {
  const start = process.memoryUsage.rss();
  let peak = process.memoryUsage();
  const sample = (): void => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
  };
  const timer = setInterval(sample, 50);
  try {
    const value = await fn();
    sample();
    return {
      value,
      startRssMb: start / MB,
      peakRssMb: peak.rss / MB,
      atPeak: {
        heapUsedMb: peak.heapUsed / MB,
        externalMb: peak.external / MB,
        nativeMb: Math.max(0, peak.rss - peak.heapTotal - peak.external) / MB,
      },
    };
  } finally {
    clearInterval(timer);
  }
};

const levelNames: Readonly<Record<number, string>> = { 20: 'debug', 30: 'info', 40: 'warning', 50: 'error' };

/**
 * A logger for the cycle that keeps the mart tasks' per-statement timings (their `debug`
 * `statement` records) and still prints what `ORDER_TRACKING_LOG_LEVEL` (default warn) asks for.
 */
export const statementRecorder = (): { log: Logger; statements: StatementTiming[] } => {
  const statements: StatementTiming[] = [];
  const shown = pino.levels.values[process.env.ORDER_TRACKING_LOG_LEVEL ?? 'warn'] ?? 40;
  const log = pino(
    { level: 'debug', base: undefined },
    {
      write(line: string): void {
        const {
          level,
          msg,
          time: _t,
          ...fields
        } = JSON.parse(line) as Record<string, unknown> & {
          level: number;
          msg: string;
        };
        if (msg === 'statement' && typeof fields.ms === 'number')
          statements.push({ ms: fields.ms, rows: Number(fields.rows ?? 0), sql: String(fields.sql ?? '') });
        if (level >= shown) {
          const extra = Object.entries(fields)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          process.stderr.write(`${levelNames[level] ?? level}: ${msg}${extra ? ` ${extra}` : ''}\n`);
        }
      },
    },
  );
  return { log, statements };
};
