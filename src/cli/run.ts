import type { RunSummary } from '../runner/run-cycle.js';

const pad = (s: string, n: number): string => s.padEnd(n);

/** The run summary as a small table: task, state, seconds, rows, note. */
export const formatSummary = (summary: RunSummary): string => {
  const lines = [`run ${summary.runId} ${summary.state} in ${summary.seconds.toFixed(2)} s`];
  lines.push(
    `  ${pad('task', 14)} ${pad('state', 16)} ${'seconds'.padStart(8)} ${'rows'.padStart(10)}  note`,
  );
  for (const t of summary.tasks) {
    const rows = t.rowsWritten ?? t.rowsRead;
    lines.push(
      `  ${pad(t.task, 14)} ${pad(t.state, 16)} ${t.seconds.toFixed(3).padStart(8)} ${(rows === undefined ? '' : String(rows)).padStart(10)}  ${t.note ?? t.error ?? ''}`,
    );
  }
  return lines.join('\n');
};
