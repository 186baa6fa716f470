/** The benchmark's results as printed tables, and as JSON with the same content. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SESSION_WORK_MEM } from '../src/engines/warehouse/postgres/postgres-warehouse.js';
import type { ModelTiming } from './reference.js';
import type { BenchResult, EngineResult, SettleRecord, WorkloadResult } from './results.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const secs = (n: number): string => n.toFixed(3);
const mb = (n: number): string => `${Math.round(n)} MB`;
const day = (iso: string): string => iso.slice(0, 10);

/** `task  seconds  rows  rows/s  note`, fixed columns. */
const row = (cells: readonly [string, string, string, string, string, string]): string => {
  const [workload, task, s, rows, rate, note] = cells;
  return `  ${workload.padEnd(9)}${task.padEnd(34)}${s.padStart(9)}${rows.padStart(13)}${rate.padStart(12)}  ${note}`.trimEnd();
};

/** Issue 4's targets, each with whether this run met it. */
const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');

const workloadLines = (w: WorkloadResult): string[] => {
  const lines: string[] = [];
  w.tasks.forEach((t, i) =>
    lines.push(
      row([
        i === 0 ? w.workload : '',
        t.task,
        secs(t.seconds),
        t.rows !== undefined ? int(t.rows) : '',
        t.rowsPerSecond !== undefined ? int(t.rowsPerSecond) : '',
        t.state === 'success' ? (t.note ?? '') : `${t.state} ${t.note ?? ''}`,
      ]),
    ),
  );
  lines.push(
    row([
      '',
      'total',
      secs(w.seconds),
      '',
      '',
      `peak RSS ${mb(w.peakRssMb)} (${mb(w.startRssMb)} at start; at peak: heap ${mb(w.memoryAtPeak.heapUsedMb)}, ` +
        `buffers ${mb(w.memoryAtPeak.externalMb)}, native ${mb(w.memoryAtPeak.nativeMb)})`,
    ]),
    row([
      '',
      'marts (wall)',
      secs(w.martsSeconds),
      '',
      int(w.martRowsPerSecond),
      'mart_uti → (mart_ecs ∥ mart_uts)',
    ]),
  );
  // The monitor's marts only apply what its reconcile re-extracted: its raw cleanup says more.
  if (w.rawRows) {
    const { before, after } = w.rawRows;
    lines.push(
      row([
        '',
        'raw rows',
        '',
        '',
        '',
        Object.keys(before)
          .map((t) => `${t} ${int(before[t] ?? 0)} → ${int(after[t] ?? 0)}`)
          .join(', '),
      ]),
    );
  } else lines.push(row(['', 'marts + tests', secs(w.martsAndTestsSeconds), '', '', '']));
  return lines;
};

const statementLines = (w: WorkloadResult): string[] =>
  w.slowestStatements.length === 0
    ? []
    : [
        `  ${w.workload}, slowest mart statements:`,
        ...w.slowestStatements
          .slice(0, 5)
          .map((s) => `    ${String(s.ms).padStart(7)} ms ${int(s.rows).padStart(10)} rows  ${s.sql}`),
      ];

const modelLines = (workload: string, m: ModelTiming, label = m.model): string[] => [
  row([workload, label, secs(m.seconds), '', '', '']),
  ...m.steps.map((s) => row(['', `  ${s.step}`, secs(s.seconds), int(s.rows), '', ''])),
];

const referenceLines = (e: EngineResult): string[] => {
  const compared = e.workloads.filter((w) => w.reference && w.comparison);
  if (compared.length === 0) return [];
  const first = compared[0]?.reference;
  const lines = [
    '',
    `dbt-style reference (bench/reference/*.sql) on copies of the marts, same raw batches; its session sets`,
    `work_mem = '${first?.workMem}' (at the stock 4 MB its NOT IN guards degrade badly); ours and the floor`,
    `run on the product's sessions (work_mem ${SESSION_WORK_MEM}). Post-hooks archive to the ${first?.period} hist tables. Rows = rows changed (tests: failures).`,
    row(['workload', 'model / step', 'seconds', 'rows', '', '']),
  ];
  for (const w of compared) {
    const r = w.reference;
    if (!r) continue;
    r.models.forEach((m, i) =>
      lines.push(
        ...modelLines(i === 0 ? w.workload : '', m, m.model === 'tests' ? 'tests (4 sessions)' : m.model),
      ),
    );
    lines.push(row(['', 'marts (wall)', secs(r.martsSeconds), '', '', 'mart_uti → (mart_ecs ∥ mart_uts)']));
    lines.push(...modelLines('', r.floor, 'floor (INSERT…SELECT)'));
  }
  lines.push('');
  for (const w of compared) {
    const c = w.comparison;
    if (!c) continue;
    const target = w.workload === 'W1' ? 10 : 2;
    lines.push(
      `${w.workload} marts + tests: ours ${c.oursMartsAndTests.toFixed(2)} s, reference ${c.referenceMartsAndTests.toFixed(2)} s → ` +
        `${c.speedup.toFixed(1)}× faster (target ≥ ${target}×: ${verdict(c.speedup >= target)})`,
    );
    lines.push(
      `${w.workload} marts: ours ${c.oursMarts.toFixed(2)} s, floor ${c.floor.toFixed(2)} s → ${c.martsOverFloor.toFixed(2)}× the floor` +
        (w.workload === 'W1' ? ` (target ≤ 2×: ${verdict(c.martsOverFloor <= 2)})` : ''),
    );
  }
  return lines;
};

const engineLines = (e: EngineResult): string[] => {
  const lines = [
    `${e.versions.join(', ')} warehouse ${e.warehouse} ← ${e.source}`,
    row(['workload', 'task', 'seconds', 'rows', 'rows/s', 'note']),
  ];
  for (const w of e.workloads) lines.push(...workloadLines(w));
  const sizes = Object.entries(e.loadedRows).map(([t, n]) => `${t} ${int(n)}`);
  if (sizes.length) lines.push(`  after W3: ${sizes.join(', ')}`);
  for (const w of e.workloads) lines.push(...statementLines(w));
  const w1 = e.workloads.find((w) => w.workload === 'W1');
  if (e.engine === 'duckdb' && w1)
    lines.push(`W1 whole cycle ${w1.seconds.toFixed(2)} s (target < 2 s: ${verdict(w1.seconds < 2)})`);
  lines.push(...referenceLines(e));
  return lines;
};

const pgloaderLines = (r: BenchResult): string[] => {
  const p = r.pgloader;
  if (!p) return [];
  if ('skipped' in p) return ['', `extraction vs pgloader: skipped (${p.skipped})`];
  const lines = [
    '',
    `extraction MySQL → PostgreSQL, uni_tracking_spath (the W3 source table):`,
    `  ${p.version} (${p.options}): ${int(p.rows)} rows in ${p.seconds.toFixed(1)} s = ${int(p.rowsPerSecond)} rows/s, ` +
      `peak RSS ${p.peakRssMb === null ? 'unknown (/usr/bin/time not available)' : mb(p.peakRssMb)}`,
  ];
  if (p.oursRowsPerSecond !== undefined && p.oursRows !== undefined)
    lines.push(
      `  ours: ${int(p.oursRows)} rows over the whole W3 extract task (3 tables in parallel) = ${int(p.oursRowsPerSecond)} rows/s ` +
        `(target ≥ 2× pgloader: ${verdict(p.oursRowsPerSecond >= 2 * p.rowsPerSecond)})`,
    );
  return lines;
};

/** One line on how the measured steps started (`settle.ts`): waits, and any step that did not settle. */
export const settlingLine = (records: readonly SettleRecord[]): string => {
  const waited = records.reduce((n, r) => n + r.waitedSeconds, 0);
  const busy = records.filter((r) => r.quiet === false).map((r) => r.before);
  const unmeasured = records.some((r) => r.quiet === null);
  const denied = records.filter((r) => r.checkpoint === 'denied').map((r) => r.before);
  const how = records.some((r) => r.checkpoint !== 'none')
    ? 'sync, CHECKPOINT, idle CPUs and no autovacuum'
    : 'sync and idle CPUs';
  return [
    `settled before ${records.length} measured step${records.length === 1 ? '' : 's'} (${how}): ${waited.toFixed(0)} s of waiting`,
    busy.length > 0 ? `; still busy before ${busy.join(', ')}` : '',
    unmeasured ? '; CPU idleness not measurable here (no /proc/stat)' : '',
    denied.length > 0 ? `; CHECKPOINT denied before ${denied.join(', ')}` : '',
  ].join('');
};

/** The printed report. */
export const formatReport = (r: BenchResult): string => {
  const m = r.machine;
  const lines = [
    `order-tracking bench, SF ${r.sf} (seed ${r.seed}, ${r.historyDays} days of history ending ${day(r.historyEnd)}), ${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    `revision ${r.revision}; machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB, ${m.os}, node ${m.node}; other work on the machine skews timings`,
    `source generation: ${r.generation.map((g) => `${g.step} ${int(g.rows)} rows in ${g.seconds.toFixed(1)} s`).join('; ')}`,
  ];
  for (const e of r.engines) lines.push('', ...engineLines(e));
  lines.push(...pgloaderLines(r));
  lines.push('', settlingLine(r.settling));
  lines.push(
    '',
    `peak RSS of the bench process (generation; each engine's cycles run in a process of their own): ${mb(r.processMaxRssMb)}`,
  );
  return `${lines.join('\n')}\n`;
};

/** Writes the results as JSON, creating the directory. */
export const writeJson = (file: string, r: BenchResult): void => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
};
