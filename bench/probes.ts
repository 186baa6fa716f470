/** Probes around a cycle: the process's memory, and the mart tasks' per-statement timings. */
import { pino } from 'pino';
import type { Logger } from '../src/runner/logger.js';
import type { MemoryAtPeak, StatementTiming } from './results.js';

const MB = 1024 * 1024;

/**
 * Samples the process memory every 50 ms while `fn` runs; `peakAt` is when the highest sample was
 * taken (`performance.now()`).
 */
export const sampleMemory = async <T>(
  fn: () => Promise<T>,
): Promise<{ value: T; startRssMb: number; peakRssMb: number; atPeak: MemoryAtPeak; peakAt: number }> => {
  const start = process.memoryUsage.rss();
  let peak = process.memoryUsage();
  let peakAt = performance.now();
  const sample = (): void => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) {
      peak = now;
      peakAt = performance.now();
    }
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
      peakAt,
    };
  } finally {
    clearInterval(timer);
  }
};

const levelNames: Readonly<Record<number, string>> = { 20: 'debug', 30: 'info', 40: 'warning', 50: 'error' };

/** A statement's timing and when it ended (`performance.now()`, taken as its record arrived). */
export interface RecordedStatement extends StatementTiming {
  readonly endedAt: number;
}

/** The statements that were running at `at`. */
export const runningAt = (statements: readonly RecordedStatement[], at: number): string[] =>
  statements.filter((s) => s.endedAt >= at && s.endedAt - s.ms <= at).map((s) => s.sql);

/**
 * A logger for the cycle that keeps the mart tasks' per-statement timings (their `debug`
 * `statement` records) and still prints what `ORDER_TRACKING_LOG_LEVEL` (default warn) asks for.
 */
export const statementRecorder = (): { log: Logger; statements: RecordedStatement[] } => {
  const statements: RecordedStatement[] = [];
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
          statements.push({
            ms: fields.ms,
            rows: Number(fields.rows ?? 0),
            sql: String(fields.sql ?? ''),
            endedAt: performance.now(),
          });
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
