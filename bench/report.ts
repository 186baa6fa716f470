/**
 * The benchmark's results as printed tables (Markdown, so the README can carry them as printed),
 * and as JSON with every repetition. Each figure is the median of the repetitions with their range.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  SESSION_RANDOM_PAGE_COST,
  SESSION_WORK_MEM,
} from '../src/engines/warehouse/postgres/postgres-warehouse.js';
import { PHASE_TITLES } from './phases.js';
import type { ModelTiming, ReferenceVariant, VariantResult } from './reference.js';
import type {
  BenchResult,
  EngineResult,
  ScaleResult,
  SettleRecord,
  WorkloadName,
  WorkloadResult,
} from './results.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (n: number): string => (n >= 1000 ? `${(n / 1024).toFixed(2)} GB` : `${Math.round(n)} MB`);
const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GB`;
const day = (iso: string): string => iso.slice(0, 10);
const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');

/** The median (mean of the middle two for an even count); NaN for none. */
export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** `1.23 (1.10–1.40)`: median and range; one value alone, no range; empty for none. */
export const spread = (
  xs: readonly number[],
  format: (n: number) => string = (n) => n.toFixed(2),
): string => {
  if (xs.length === 0) return '';
  const m = format(median(xs));
  return xs.length === 1 ? m : `${m} (${format(Math.min(...xs))}–${format(Math.max(...xs))})`;
};

/** `a ÷ b` of two medians as `3.1×`, empty when either is missing. */
const times = (a: readonly number[], b: readonly number[]): string => {
  const r = median(a) / median(b);
  return Number.isFinite(r) ? `${r.toFixed(r >= 10 ? 0 : r >= 1 ? 1 : 2)}×` : '';
};

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string[] => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)];
};

const reps = (e: EngineResult | undefined, w: WorkloadName): WorkloadResult[] =>
  e?.workloads.filter((r) => r.workload === w) ?? [];
const taskSeconds = (rs: readonly WorkloadResult[], task: string): number[] =>
  rs.flatMap((r) => r.tasks.filter((t) => t.task === task).map((t) => t.seconds));
const taskRows = (rs: readonly WorkloadResult[], task: string): number[] =>
  rs.flatMap((r) => r.tasks.filter((t) => t.task === task).map((t) => t.rows ?? 0));
const variantOf = (rs: readonly WorkloadResult[], v: ReferenceVariant): VariantResult[] =>
  rs.flatMap((r) => r.reference?.variants.filter((x) => x.variant === v) ?? []);
const refMarts = (rs: readonly WorkloadResult[], v: ReferenceVariant): number[] =>
  variantOf(rs, v).map((x) => x.martsSeconds);
const refMartsAndTests = (rs: readonly WorkloadResult[], v: ReferenceVariant): number[] =>
  variantOf(rs, v).map((x) => x.martsSeconds + x.tests.seconds);
const floorSeconds = (rs: readonly WorkloadResult[]): number[] =>
  rs.flatMap((r) => (r.reference ? [r.reference.floor.seconds] : []));

const ORDER: readonly WorkloadName[] = ['W3', 'W1', 'W4', 'W2'];
const SHORT: Readonly<Record<WorkloadName, string>> = {
  W3: 'W3 initial load',
  W1: 'W1 one 15-min batch',
  W4: 'W4 daily monitor',
  W2: 'W2 24-hour backlog',
};
const ENGINE: Readonly<Record<EngineResult['engine'], string>> = { duckdb: 'DuckDB', postgres: 'PostgreSQL' };

/** The main table of one SF: ours per workload and engine, with both references and the floor. */
export const summaryTable = (s: ScaleResult): string[] => {
  const rows: string[][] = [];
  for (const w of ORDER)
    for (const e of s.engines) {
      const rs = reps(e, w);
      if (rs.length === 0) continue;
      const marts = rs.map((r) => r.martsSeconds);
      const mt = rs.map((r) => r.martsAndTestsSeconds);
      const compared = w === 'W1' || w === 'W2';
      rows.push([
        SHORT[w],
        ENGINE[e.engine],
        w === 'W4' ? '' : spread(taskSeconds(rs, 'extract')),
        w === 'W4' ? '' : spread(marts),
        w === 'W4' ? '' : spread(taskSeconds(rs, 'tests')),
        spread(rs.map((r) => r.seconds)),
        spread(
          rs.map((r) => r.peakRssMb),
          mb,
        ),
        ...(compared && variantOf(rs, 'plain').length
          ? [
              `${spread(refMarts(rs, 'plain'))} / ${spread(refMartsAndTests(rs, 'plain'))}`,
              `${times(refMarts(rs, 'plain'), marts)} / ${times(refMartsAndTests(rs, 'plain'), mt)}`,
              `${spread(refMarts(rs, 'indexed'))} / ${spread(refMartsAndTests(rs, 'indexed'))}`,
              `${times(refMarts(rs, 'indexed'), marts)} / ${times(refMartsAndTests(rs, 'indexed'), mt)}`,
              `${spread(floorSeconds(rs))} (${times(marts, floorSeconds(rs))})`,
            ]
          : ['', '', '', '', '']),
      ]);
    }
  const header = ['workload', 'engine', 'extract', 'marts', 'tests', 'whole run', 'peak RSS'];
  // The references run on PostgreSQL only: without it their columns stay out.
  if (!s.engines.some((e) => e.workloads.some((w) => w.reference)))
    return table(
      header,
      rows.map((r) => r.slice(0, header.length)),
    );
  return table(
    [
      ...header,
      'ref. index-less: marts / + tests',
      'ours faster',
      'ref. indexed: marts / + tests',
      'ours faster',
      'floor (ours ÷ floor)',
    ],
    rows,
  );
};

/** One step of a reference model or the floor over its repetitions: median (range) seconds, median rows. */
const stepRow = (step: string, models: readonly ModelTiming[]): string[] => {
  const hits = models.flatMap((m) => m.steps.filter((x) => x.step === step));
  return [
    '',
    '',
    `  ${step}`,
    spread(
      hits.map((h) => h.seconds),
      (n) => n.toFixed(3),
    ),
    int(median(hits.map((h) => h.rows))),
  ];
};

/** Per task of ours, per model step and per test of each reference variant: medians with range. */
const detailLines = (s: ScaleResult): string[] => {
  const lines: string[] = [];
  for (const e of s.engines) {
    lines.push('', `${ENGINE[e.engine]}: ${e.versions.join(', ')}, warehouse ${e.warehouse} ← ${e.source}`);
    const rows: string[][] = [];
    for (const w of ORDER) {
      const rs = reps(e, w);
      const names = [...new Set(rs.flatMap((r) => r.tasks.map((t) => t.task)))];
      for (const [i, task] of names.entries()) {
        const rows_ = rs.flatMap((r) => r.tasks.filter((t) => t.task === task).map((t) => t.rows ?? 0));
        const states = [
          ...new Set(rs.flatMap((r) => r.tasks.filter((t) => t.task === task).map((t) => t.state))),
        ];
        rows.push([
          i === 0 ? w : '',
          task,
          spread(taskSeconds(rs, task), (n) => n.toFixed(3)),
          rows_.length ? int(median(rows_)) : '',
          states.filter((x) => x !== 'success').join(', '),
        ]);
      }
    }
    lines.push(...table(['workload', 'task (ours)', 'seconds', 'rows', 'not success'], rows));
    if (e.workloads.some((r) => r.reference)) {
      lines.push(
        '',
        `The seed's dbt-style SQL (bench/reference/*.sql) on copies of the marts, same raw batches, its sessions at`,
        `work_mem ${e.workloads.find((r) => r.reference)?.reference?.workMem}; it, ours and the floor run on the product's sessions (work_mem ${SESSION_WORK_MEM}, random_page_cost ${SESSION_RANDOM_PAGE_COST}).`,
        `Rows: rows changed; tests: failing rows. Index-less: as dbt-postgres creates the tables; indexed: a PostgreSQL user's indexes.`,
      );
      const ref: string[][] = [];
      for (const w of ['W1', 'W2'] as const) {
        const rs = reps(e, w);
        for (const v of ['plain', 'indexed'] as const) {
          const vs = variantOf(rs, v);
          if (vs.length === 0) continue;
          const models: ModelTiming[][] = [0, 1, 2].map((i) => vs.flatMap((x) => x.models[i] ?? []));
          models.push(vs.map((x) => x.tests));
          for (const ms of models) {
            const name = ms[0]?.model ?? '';
            ref.push([
              w,
              v === 'plain' ? 'index-less' : 'indexed',
              name === 'tests' ? 'tests (4 sessions)' : name,
              spread(
                ms.map((m) => m.seconds),
                (n) => n.toFixed(3),
              ),
              '',
            ]);
            const steps = [...new Set(ms.flatMap((m) => m.steps.map((x) => x.step)))];
            for (const step of steps) ref.push(stepRow(step, ms));
          }
        }
        const floors = rs.flatMap((r) => (r.reference ? [r.reference.floor] : []));
        if (floors.length) {
          ref.push([
            w,
            'floor',
            'mart_uti → (mart_ecs ∥ mart_uts)',
            spread(
              floors.map((f) => f.seconds),
              (n) => n.toFixed(3),
            ),
            '',
          ]);
          for (const step of ['mart_uti', 'mart_ecs', 'mart_uts']) ref.push(stepRow(step, floors));
        }
      }
      lines.push(...table(['workload', 'variant', 'model / step', 'seconds', 'rows'], ref));
      lines.push(...problemLines(e));
    }
    for (const w of ORDER) {
      const rs = reps(e, w);
      const mid = [...rs].sort((a, b) => a.seconds - b.seconds)[Math.floor(rs.length / 2)];
      if (!mid || mid.slowestStatements.length === 0) continue;
      lines.push(
        `${w} #${mid.rep} (the median run), slowest mart statements:`,
        ...mid.slowestStatements
          .slice(0, 5)
          .map((x) => `    ${String(x.ms).padStart(7)} ms ${int(x.rows).padStart(10)} rows  ${x.sql}`),
      );
    }
    const sizes = Object.entries(e.loadedRows).map(([t, n]) => `${t} ${int(n)}`);
    if (sizes.length) lines.push(`after W3: ${sizes.join(', ')}`);
  }
  return lines;
};

/**
 * What the reference got wrong in one cycle, per workload and variant: its first repetition's, on
 * copies of ours (W1's later repetitions run on copies that still hold the earlier cycles' rows).
 */
const problemLines = (e: EngineResult): string[] => {
  const lines: string[] = [];
  for (const w of ['W1', 'W2'] as const)
    for (const v of ['plain', 'indexed'] as const) {
      const rs = reps(e, w);
      const first = variantOf(
        rs.filter((r) => r.rep === Math.min(...rs.map((x) => x.rep))),
        v,
      )[0];
      if (!first) continue;
      const failing = Object.entries(first.problems.testFailures)
        .filter(([, n]) => n > 0)
        .map(([t, n]) => `${t} ${int(n)}`);
      const over = Object.entries(first.problems.rowsOverOurs)
        .filter(([, n]) => n !== 0)
        .map(([m, n]) => `${m} ${n > 0 ? '+' : ''}${int(n)} rows against ours`);
      lines.push(
        `reference ${v === 'plain' ? 'index-less' : 'indexed'} ${w}, what it got wrong in one cycle: ` +
          ([...failing, ...over].join('; ') || 'nothing the tests or a row count see'),
      );
    }
  return lines;
};

const pgloaderLines = (s: ScaleResult): string[] => {
  const p = s.pgloader;
  if (!p) return [];
  if ('skipped' in p) return [`extraction vs pgloader: skipped (${p.skipped})`];
  const lines = [
    `extraction MySQL → PostgreSQL, uni_tracking_spath: ${p.version} (${p.options}): ${int(p.rows)} rows in ${p.seconds.toFixed(1)} s = ${int(p.rowsPerSecond)} rows/s, ` +
      `peak RSS ${p.peakRssMb === null ? 'unknown (/usr/bin/time not available)' : mb(p.peakRssMb)}`,
  ];
  if (p.oursRowsPerSecond !== undefined && p.oursRows !== undefined)
    lines.push(
      `  ours (W3 #1, the whole extract task, 3 tables in parallel): ${int(p.oursRows)} rows = ${int(p.oursRowsPerSecond)} rows/s (${(p.oursRowsPerSecond / p.rowsPerSecond).toFixed(2)}× pgloader)`,
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

/** One measured quantity across SFs: its repetitions at each SF, for the growth table. */
interface Series {
  readonly step: string;
  readonly engine: string;
  readonly values: readonly (readonly number[])[];
  readonly format?: (n: number) => string;
}

const seriesOf = (r: BenchResult): Series[] => {
  const out: Series[] = [];
  const engines = [...new Set(r.scales.flatMap((s) => s.engines.map((e) => e.engine)))];
  const at = (engine: string, w: WorkloadName) =>
    r.scales.map((s) =>
      reps(
        s.engines.find((e) => e.engine === engine),
        w,
      ),
    );
  for (const w of ORDER)
    for (const engine of engines) {
      const per = at(engine, w);
      if (per.every((rs) => rs.length === 0)) continue;
      const name = ENGINE[engine];
      const add = (
        step: string,
        f: (rs: WorkloadResult[]) => number[],
        format?: (n: number) => string,
      ): void => {
        const values = per.map(f);
        if (values.some((v) => v.length > 0))
          out.push({ step: `${w} ${step}`, engine: name, values, ...(format ? { format } : {}) });
      };
      if (w !== 'W4') {
        add('extract', (rs) => taskSeconds(rs, 'extract'));
        add('marts', (rs) => rs.map((x) => x.martsSeconds));
        add('tests', (rs) => taskSeconds(rs, 'tests'));
      }
      if (w === 'W1' || w === 'W2')
        // The batch's work: its tracking updates move orders in flight, more of them in a larger
        // history, so mart_uti and mart_ecs apply more rows per batch as SF grows.
        for (const m of ['mart_uti', 'mart_ecs']) add(`${m} rows applied`, (rs) => taskRows(rs, m), int);
      add('whole run', (rs) => rs.map((x) => x.seconds));
      add('peak RSS', (rs) => rs.map((x) => x.peakRssMb), mb);
      if (w === 'W1' || w === 'W2') {
        for (const v of ['plain', 'indexed'] as const) {
          const label = v === 'plain' ? 'index-less' : 'indexed';
          add(`ref. ${label} marts`, (rs) => refMarts(rs, v));
          add(`ref. ${label} tests`, (rs) => variantOf(rs, v).map((x) => x.tests.seconds));
        }
        add('floor', floorSeconds);
      }
    }
  return out;
};

/** How each step grows with SF: medians (range) at each SF, and last ÷ first. */
export const growthTable = (r: BenchResult): string[] => {
  const sfs = r.scales.map((s) => s.sf);
  const rows = seriesOf(r).map((s) => [
    s.step,
    s.engine,
    ...s.values.map((v) => spread(v, s.format)),
    times(s.values[s.values.length - 1] ?? [], s.values[0] ?? []),
  ]);
  return table(['step', 'engine', ...sfs.map((sf) => `SF ${sf}`), `SF ${sfs.at(-1)} ÷ SF ${sfs[0]}`], rows);
};

/** A statement named by what it does and to which table: `insert into "ods"."mart_uts"`. */
const statementHead = (sql: string): string =>
  /^(?:insert into|create temporary table|delete from|update)\s+\S+/i.exec(sql)?.[0] ?? sql.slice(0, 60);

/** The issue's targets, each with whether this run met it. */
export const targetLines = (r: BenchResult): string[] => {
  const lines: string[] = [];
  const first = r.scales[0];
  const last = r.scales.at(-1);
  if (!first || !last) return lines;
  if (r.scales.length > 1)
    for (const e of last.engines) {
      const w1 = (s: ScaleResult) =>
        reps(
          s.engines.find((x) => x.engine === e.engine),
          'W1',
        );
      const applied = (s: ScaleResult) => median(taskRows(w1(s), 'mart_uti'));
      const growth = (from: ScaleResult): string => {
        const a = w1(from).map((x) => x.seconds);
        const b = w1(last).map((x) => x.seconds);
        if (!a.length || !b.length) return '';
        const g = median(b) / median(a);
        return `${ENGINE[e.engine]} W1 whole cycle SF ${from.sf} → ${last.sf}: ${g.toFixed(2)}× (target ≤ 1.3×: ${verdict(g <= 1.3)}); mart_uti applies ${int(applied(from))} → ${int(applied(last))} rows`;
      };
      const line = growth(first);
      if (line) lines.push(line);
      // A small history has fewer orders in flight than a production batch updates: the batch is
      // the same work only from the first SF whose mart_uti rows are within 10% of the last's.
      const same: ScaleResult | undefined = r.scales.find(
        (s) => Math.abs(applied(s) / applied(last) - 1) <= 0.1,
      );
      if (line && same && same !== first && same !== last) lines.push(`${growth(same)} (the same batch)`);
      for (const w of ORDER) {
        const pa = reps(
          first.engines.find((x) => x.engine === e.engine),
          w,
        ).map((x) => x.peakRssMb);
        const pb = reps(e, w).map((x) => x.peakRssMb);
        if (pa.length && pb.length) {
          const g = median(pb) / median(pa);
          lines.push(
            `${ENGINE[e.engine]} ${w} peak RSS SF ${first.sf} → ${last.sf}: ${mb(median(pa))} → ${mb(median(pb))}, ${g.toFixed(2)}× (target ≤ 1.2×: ${verdict(g <= 1.2)})`,
          );
        }
      }
    }
  const duck = last.engines.find((e) => e.engine === 'duckdb');
  const highest = ORDER.map((w) => ({ w, rs: reps(duck, w) }))
    .filter(({ rs }) => rs.length > 0)
    .map(({ w, rs }) => ({ w, rs, peak: median(rs.map((x) => x.peakRssMb)) }))
    .sort((a, b) => b.peak - a.peak)[0];
  if (highest) {
    // What ran at the highest sample of that workload's highest repetition.
    const top = [...highest.rs].sort((a, b) => b.peakRssMb - a.peakRssMb)[0];
    const during = top?.memoryAtPeak.during?.[0];
    lines.push(
      `DuckDB peak RSS at SF ${last.sf} (the highest workload median): ${mb(highest.peak)}, ${highest.w}` +
        `${during ? `, during ${statementHead(during)}` : ''} (target < 1 GB: ${verdict(highest.peak < 1024)})`,
    );
  }
  for (const s of r.scales) {
    const pg = s.engines.find((e) => e.engine === 'postgres');
    if (!pg) continue;
    const check = (what: string, ours: number[], theirs: number[], target: number): void => {
      if (!ours.length || !theirs.length) return;
      const x = median(theirs) / median(ours);
      const how = x >= 1 ? `${x.toFixed(2)}× faster` : `${(1 / x).toFixed(2)}× slower`;
      lines.push(`SF ${s.sf} ${what}: ours ${how} (target ≥ ${target}× faster: ${verdict(x >= target)})`);
    };
    const w2 = reps(pg, 'W2');
    const w1 = reps(pg, 'W1');
    const marts = (rs: WorkloadResult[]) => rs.map((x) => x.martsSeconds);
    const mt = (rs: WorkloadResult[]) => rs.map((x) => x.martsAndTestsSeconds);
    check('PostgreSQL W2 marts vs indexed reference', marts(w2), refMarts(w2, 'indexed'), 3);
    check('PostgreSQL W2 marts + tests vs indexed reference', mt(w2), refMartsAndTests(w2, 'indexed'), 3);
    check('PostgreSQL W2 marts vs index-less reference', marts(w2), refMarts(w2, 'plain'), 1.5);
    check('PostgreSQL W2 marts + tests vs index-less reference', mt(w2), refMartsAndTests(w2, 'plain'), 1.5);
    check('PostgreSQL W1 marts vs index-less reference', marts(w1), refMarts(w1, 'plain'), 10);
    const f = floorSeconds(w2);
    if (f.length) {
      const x = median(marts(w2)) / median(f);
      lines.push(
        `SF ${s.sf} PostgreSQL W2 marts ÷ floor: ${x.toFixed(2)}× (target ≤ 1.2×: ${verdict(x <= 1.2)})`,
      );
    }
  }
  return lines;
};

const minutes = (seconds: number): string => `${(seconds / 60).toFixed(1)} min`;

/** Where an SF's wall time went, largest phase first; null for results written before phases were kept. */
export const phasesLine = (s: ScaleResult): string | null => {
  if (!s.phases) return null;
  const phases = Object.entries(s.phases) as Array<[keyof typeof PHASE_TITLES, number]>;
  const total = phases.reduce((n, [, seconds]) => n + seconds, 0);
  const parts = phases
    .filter(([, seconds]) => seconds >= 0.5)
    .sort((a, b) => b[1] - a[1])
    .map(([phase, seconds]) => `${PHASE_TITLES[phase]} ${minutes(seconds)}`);
  return `this SF took ${minutes(total)}: ${parts.join(', ')}`;
};

const scaleLines = (r: BenchResult, s: ScaleResult): string[] => [
  '',
  `## SF ${s.sf}: ${r.reps} repetition${r.reps === 1 ? '' : 's'} each, median (min–max), seconds`,
  `source generation: ${s.generation.map((g) => `${g.step} ${int(g.rows)} rows in ${g.seconds.toFixed(1)} s`).join('; ')}`,
  `disk at the end: PostgreSQL database ${s.postgresBytes === undefined ? 'not used' : gb(s.postgresBytes)} (largest seen), DuckDB file + SQLite source ${gb(s.embeddedBytes)}`,
  '',
  ...summaryTable(s),
  ...detailLines(s),
  ...pgloaderLines(s),
  settlingLine(s.settling),
  ...[phasesLine(s)].filter((line): line is string => line !== null),
];

/** The printed report. */
export const formatReport = (r: BenchResult): string => {
  const m = r.machine;
  const first = r.scales[0];
  const lines = [
    `# order-tracking bench, SF ${r.scales.map((s) => s.sf).join(', ')} (seed ${r.seed}${first ? `, ${first.historyDays} days of history ending ${day(first.historyEnd)}` : ''}), ${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    `revision ${r.revision}; machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB, ${m.os}, node ${m.node}; other work on the machine skews timings`,
    `W1 and W2 repeat on the next batch or backlog, W3 on an emptied warehouse; autovacuum is off on the bench's tables while a step is measured.`,
  ];
  for (const s of r.scales) lines.push(...scaleLines(r, s));
  if (r.scales.length > 1)
    lines.push('', '## Growth with history (medians (min–max), seconds)', '', ...growthTable(r));
  const targets = targetLines(r);
  if (targets.length) lines.push('', '## Targets (issue 22)', ...targets.map((t) => `- ${t}`));
  const timed = r.scales.filter((s) => s.phases);
  if (timed.length > 0) {
    const took = (s: ScaleResult): number => Object.values(s.phases ?? {}).reduce((n, x) => n + x, 0);
    const total = timed.reduce((n, s) => n + took(s), 0);
    lines.push(
      '',
      `the run took ${minutes(total)} (${timed.map((s) => `SF ${s.sf} ${minutes(took(s))}`).join(', ')}); where each SF's time went is under its table`,
    );
  }
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
