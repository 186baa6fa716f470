/**
 * The benchmark's workloads (SPEC §10), each engine's cycles in a process of its own (`cycle-process.ts`):
 * - W3: the initial load of scale factor SF history (`init` + the first cycle);
 * - W1: one production-rate 15-minute batch on top of the loaded marts, then one cycle;
 * - W2: a 24-hour backlog (96 such batches), then one cycle;
 * - W4: the daily monitor, after W1 (before W2's production-rate day enters its reconciled week).
 * One generator feeds every source (SQLite, and MySQL/MariaDB for the server run), so each engine
 * measures the same rows; engines run one after the other, never at the same time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../src/config/settings.js';
import { openWarehouse } from '../src/engines/warehouse/open.js';
import { withConnection, type Warehouse } from '../src/engines/warehouse/warehouse.js';
import {
  createGenerator,
  productionBatch,
  scaleFactorOptions,
  SCALE_FACTOR_DAYS,
  type SourceGenerator,
} from '../src/generator/index.js';
import { marts } from '../src/pipeline/marts.js';
import { metaTables } from '../src/pipeline/meta.js';
import { rawTableName, type SourceTableName } from '../src/pipeline/tables.js';
import type { RunSummary } from '../src/runner/run-cycle.js';
import { withoutAutovacuum } from './autovacuum.js';
import { countRows } from './catalog.js';
import { startCycleProcess, type CycleProcess } from './cycle-process.js';
import { runPgloader } from './pgloader.js';
import { settle, settleLine } from './settle.js';
import { takeSnapshot } from './snapshot.js';
import { vacuumAnalyzeSchemas } from './parallel.js';
import { phaseClock, type PhaseClock } from './phases.js';
import {
  maintainReference,
  prepareReference,
  ReferenceCopies,
  rowsPerMart,
  runReference,
  type BatchWindow,
  type KeptCopies,
  type ReferenceSchemas,
} from './reference.js';
import type {
  BenchResult,
  EngineResult,
  GenerationResult,
  ScaleResult,
  SettleRecord,
  TaskTiming,
  WorkloadName,
  WorkloadResult,
} from './results.js';
import { dropSourceTables, openSourceWriters, sourceVersions } from './source.js';

/** The generated history ends here (a fixed clock: same rows, same periods, every run). */
export const BENCH_END = Date.UTC(2026, 2, 1) / 1000;
export const BENCH_SEED = 1;
/** W2: 24 hours of 15-minute batches. */
export const BACKLOG_BATCHES = 96;
/** The cycle runs this long after the last write (the `uni_tracking_info` settle time is 60 s). */
const CLOCK_LAG = 120;

export const WORKLOAD_TITLES: Readonly<Record<WorkloadName, string>> = {
  W3: 'initial load of SF history (init + first cycle)',
  W1: 'one production-rate 15-minute batch, one cycle',
  W2: `24-hour backlog (${BACKLOG_BATCHES} batches), one cycle`,
  W4: 'the daily monitor: 7-day reconcile, DQ checks, exceptions, raw cleanup, maintenance',
};

/** One engine pair under test. */
export interface EngineTarget {
  readonly engine: 'duckdb' | 'postgres';
  readonly settings: Settings;
  /** PostgreSQL only: schemas of the dbt-style reference, and the scratch schema of pgloader. */
  readonly reference?: ReferenceSchemas;
  readonly pgloaderSchema?: string;
  /** PostgreSQL only: where W2's starting state is kept between its repetitions (`snapshot.ts`). */
  readonly snapshotSchema?: string;
}

export interface BenchPlan {
  /** Scale factors, run one after the other, each on sources and warehouses of its own. */
  readonly scales: readonly number[];
  /** Repetitions of each workload per SF (medians and spreads come from these). */
  readonly reps: number;
  readonly workloads: ReadonlySet<WorkloadName>;
  /** `.order-tracking/bench`: the SQLite source and the DuckDB file live here. */
  readonly dir: string;
  readonly targets: readonly EngineTarget[];
  /** The MySQL/MariaDB source of the server run, or null. */
  readonly mysqlUrl: string | null;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
  /** Called with the results so far after every workload. */
  readonly checkpoint: (partial: BenchResult) => void;
  /** Before each SF: refuses (throws) when the disks cannot hold it. */
  readonly checkDisk?: (sf: number) => Promise<void>;
}

const revision = (): string => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    });
    return dirty.trim() ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
};
const seconds = (started: number): number => (performance.now() - started) / 1000;

const span = (summary: RunSummary, from: string, to: readonly string[]): number => {
  const start = summary.tasks.find((t) => t.task === from);
  const ends = summary.tasks.filter((t) => to.includes(t.task)).map((t) => Date.parse(t.endedAt));
  return start && ends.length ? (Math.max(...ends) - Date.parse(start.startedAt)) / 1000 : 0;
};

const perSecond = (rows: number | undefined, s: number): number | undefined =>
  rows !== undefined && s > 0 ? rows / s : undefined;

/** What one cycle landed: rows per table and the batch range per table (the reference's input). */
export const landed = async (
  warehouse: Warehouse,
  settings: Settings,
  runId: number,
): Promise<{ rows: Record<string, number>; window: BatchWindow }> =>
  withConnection(warehouse, async (c) => {
    const b = metaTables(settings.schemas).batches;
    const rows = await c.query<{ table_name: string; n: number; f: number; t: number }>(
      `select table_name, sum(landed_count) as n, min(batch_id) as f, max(batch_id) as t
         from ${warehouse.dialect.table(b.schema, b.name)} where run_id = $1 and state = 'validated'
        group by table_name order by table_name`,
      [runId],
    );
    return {
      rows: Object.fromEntries(rows.map((r) => [r.table_name, Number(r.n)])),
      window: new Map(
        rows.map((r) => [r.table_name as SourceTableName, [Number(r.f), Number(r.t)] as const]),
      ),
    };
  });

/** Rows per raw table (W4: before and after the monitor's cleanup). */
const rawSizes = async (settings: Settings): Promise<Record<string, number>> => {
  const warehouse = await openWarehouse(settings.warehouse);
  try {
    return await withConnection(warehouse, async (c) => {
      const sizes: Record<string, number> = {};
      for (const m of marts)
        sizes[m.source] = await countRows(
          c,
          warehouse.dialect.table(settings.schemas.raw, rawTableName(m.source)),
        );
      return sizes;
    });
  } finally {
    await warehouse.close();
  }
};

/** Rows per mart and hist table. */
const tableSizes = async (warehouse: Warehouse, settings: Settings): Promise<Record<string, number>> =>
  withConnection(warehouse, async (c) => {
    const d = warehouse.dialect;
    const tables = await c.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
      [settings.schemas.mart],
    );
    const sizes: Record<string, number> = {};
    for (const { table_name } of tables) {
      if (!marts.some((m) => table_name === m.table || table_name.startsWith(`hist_${m.source}_`))) continue;
      sizes[table_name] = await countRows(c, d.table(settings.schemas.mart, table_name));
    }
    return sizes;
  });

/**
 * PostgreSQL after the initial load: VACUUM ANALYZE every pipeline table, as autovacuum does on its
 * own after a bulk load (and the daily monitor does, SPEC §6); done here so W1 and W2 measure the
 * steady state: plans made with statistics, and no cycle sharing the machine with autovacuum's
 * first pass over millions of fresh rows.
 */
const vacuumAnalyzeAll = async (settings: Settings): Promise<void> => {
  const warehouse = await openWarehouse(settings.warehouse);
  try {
    const { raw, mart, meta } = settings.schemas;
    await vacuumAnalyzeSchemas(warehouse, [raw, mart, meta]);
  } finally {
    await warehouse.close();
  }
};

/** `DuckDB v1.5.6 (memory_limit …, threads 2)`, `PostgreSQL 15.20 (shared_buffers 128MB, work_mem 4MB)`. */
const engineVersion = async (warehouse: Warehouse): Promise<string> =>
  withConnection(warehouse, async (c) => {
    const one = async (sql: string): Promise<string> =>
      String(Object.values((await c.query(sql))[0] ?? {})[0] ?? '');
    const v = await one('select version() as v');
    if (warehouse.dialect.name === 'duckdb')
      return `DuckDB ${v} (memory_limit ${await one("select current_setting('memory_limit')")}, threads ${await one("select current_setting('threads')")})`;
    return `${/^PostgreSQL [\d.]+/.exec(v)?.[0] ?? v} (shared_buffers ${await one('show shared_buffers')}, work_mem ${await one('show work_mem')})`;
  });

/** Runs one workload's cycle on one engine (the source already holds its rows) and measures it. */
const measure = async (
  target: EngineTarget,
  workload: WorkloadName,
  rep: number,
  now: number,
  sourceRows: Readonly<Record<string, number>>,
  cycles: CycleProcess,
  progress: (line: string) => void,
  settleDown: (before: string) => Promise<void>,
  clock: PhaseClock,
  copies: ReferenceCopies<EngineTarget>,
): Promise<WorkloadResult> => {
  const { settings, reference: schemas } = target;
  const label = `${target.engine} ${workload} #${rep}`;
  const warehouse = target.engine === 'postgres' ? await openWarehouse(settings.warehouse) : null;
  try {
    const kept = copies.take(target, workload);
    const period =
      warehouse && schemas && (workload === 'W1' || workload === 'W2')
        ? (kept?.period ?? (await clock.time('copies', () => prepareReference(warehouse, settings, schemas))))
        : null;
    const keptCopies: KeptCopies | undefined =
      kept && warehouse
        ? { ours: await rowsPerMart(warehouse, settings.schemas.mart), reference: kept.rows }
        : undefined;
    await settleDown(label);
    progress(`${label}: ${WORKLOAD_TITLES[workload]}`);
    const rawBefore = workload === 'W4' ? await rawSizes(settings) : undefined;
    const request = { settings, now, init: workload === 'W3', monitor: workload === 'W4' };
    const { raw, mart, meta } = settings.schemas;
    const cycle = await clock.time('cycles', () =>
      warehouse
        ? withoutAutovacuum(warehouse, [raw, mart, meta], () => cycles.run(request))
        : cycles.run(request),
    );
    const rawRows = rawBefore ? { before: rawBefore, after: await rawSizes(settings) } : undefined;
    const { summary, seconds: total } = cycle;
    const martNames: readonly string[] = marts.map((m) => m.name);
    // Rates only where rows move: validate's rows are counted, not moved.
    const moving = new Set(['extract', ...martNames]);
    const tasks: TaskTiming[] = [
      ...(cycle.init ? [cycle.init] : []),
      ...summary.tasks.map((t) => {
        const rows = t.rowsWritten ?? t.rowsRead;
        return {
          task: t.task,
          state: t.state,
          seconds: t.seconds,
          ...(rows !== undefined ? { rows } : {}),
          ...(moving.has(t.task) ? { rowsPerSecond: perSecond(rows, t.seconds) } : {}),
          ...(t.note ? { note: t.note } : {}),
        };
      }),
    ];
    const martsSeconds = span(summary, 'mart_uti', martNames);
    const martRows = summary.tasks
      .filter((t) => martNames.includes(t.task))
      .reduce((n, t) => n + (t.rowsWritten ?? 0), 0);
    const extract = summary.tasks.find((t) => t.task === 'extract');
    const probe = warehouse ?? (await openWarehouse(settings.warehouse));
    let landedRows: Awaited<ReturnType<typeof landed>>;
    try {
      landedRows = await landed(probe, settings, summary.runId);
    } finally {
      if (!warehouse) await probe.close();
    }
    const { rows: extracted, window } = landedRows;
    const result: WorkloadResult = {
      workload,
      rep,
      title: WORKLOAD_TITLES[workload],
      sourceRows,
      extracted,
      tasks,
      seconds: total,
      extractRowsPerSecond: perSecond(extract?.rowsWritten, extract?.seconds ?? 0) ?? 0,
      martsSeconds,
      martsAndTestsSeconds: span(summary, 'mart_uti', ['tests']),
      martRowsPerSecond: perSecond(martRows, martsSeconds) ?? 0,
      startRssMb: cycle.startRssMb,
      peakRssMb: cycle.peakRssMb,
      memoryAtPeak: cycle.memoryAtPeak,
      slowestStatements: [...cycle.statements].sort((a, b) => b.ms - a.ms).slice(0, 8),
      ...(rawRows ? { rawRows } : {}),
    };
    progress(
      `${label}: ${total.toFixed(1)} s; extract ${Math.round(result.extractRowsPerSecond)} rows/s; ` +
        `marts ${martsSeconds.toFixed(1)} s; peak RSS ${Math.round(cycle.peakRssMb)} MB`,
    );
    if (!warehouse || !schemas || !period) return result;
    progress(`${label}: dbt-style reference (index-less, indexed) and floor on copies of the marts`);
    const reference = await clock.time('reference', () =>
      runReference(
        warehouse,
        settings,
        schemas,
        period,
        window,
        (step) => settleDown(`${label} ${step}`),
        keptCopies,
      ),
    );
    if (copies.keeps(workload, rep)) {
      await clock.time('copies', () => maintainReference(warehouse, schemas));
      copies.keep(target, { period, rows: new Map(reference.variants.map((v) => [v.variant, v.martRows])) });
    }
    progress(
      `${label}: reference marts + tests ${reference.variants
        .map((v) => `${v.variant} ${(v.martsSeconds + v.tests.seconds).toFixed(1)} s`)
        .join(', ')}; floor ${reference.floor.seconds.toFixed(1)} s`,
    );
    return { ...result, reference };
  } finally {
    await warehouse?.close();
  }
};

/** Drops an engine's warehouse: the DuckDB file, or the server run's schemas. */
const dropWarehouse = async (target: EngineTarget): Promise<void> => {
  const w = target.settings.warehouse;
  if (w.kind === 'duckdb') {
    for (const f of [w.path, `${w.path}.wal`]) rmSync(f, { force: true });
    return;
  }
  const warehouse = await openWarehouse(target.settings.warehouse);
  try {
    await withConnection(warehouse, async (c) => {
      const { raw, mart, meta } = target.settings.schemas;
      const r = target.reference;
      const schemas = [
        raw,
        mart,
        meta,
        r?.plain,
        r?.indexed,
        r?.floor,
        r?.audit,
        target.pgloaderSchema,
        target.snapshotSchema,
      ];
      for (const s of schemas)
        if (s) await c.execute(`drop schema if exists ${warehouse.dialect.quote(s)} cascade`);
    });
  } finally {
    await warehouse.close();
  }
};

/** Removes what a previous bench (or SF) left: the embedded files, the server run's schemas. */
const reset = async (plan: BenchPlan): Promise<void> => {
  rmSync(plan.dir, { recursive: true, force: true });
  mkdirSync(plan.dir, { recursive: true });
  for (const target of plan.targets) if (target.engine === 'postgres') await dropWarehouse(target);
};

const sumRows = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);

/** Source rows written between two generator summaries: inserts per table plus in-place updates. */
const writtenSince = (
  generator: SourceGenerator,
  before: { inserted: Readonly<Record<string, number>>; updates: number },
): Record<string, number> => {
  const s = generator.summary;
  const out: Record<string, number> = {};
  for (const [table, n] of Object.entries(s.inserted)) out[table] = n - (before.inserted[table] ?? 0);
  out.uni_tracking_info = (out.uni_tracking_info ?? 0) + s.trackingUpdates - before.updates;
  return out;
};

const snapshot = (generator: SourceGenerator) => ({
  inserted: { ...generator.summary.inserted },
  updates: generator.summary.trackingUpdates,
});

/** Bytes of PostgreSQL's bench database. */
const databaseBytes = async (target: EngineTarget): Promise<number> => {
  const warehouse = await openWarehouse(target.settings.warehouse);
  try {
    return await withConnection(warehouse, async (c) =>
      Number((await c.query<{ n: number }>('select pg_database_size(current_database()) as n'))[0]?.n ?? 0),
    );
  } finally {
    await warehouse.close();
  }
};

const fileBytes = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** Bytes of the DuckDB file and the SQLite source (the bench directory). */
const embeddedBytes = (dir: string): number =>
  fileBytes(join(dir, 'warehouse.duckdb')) + fileBytes(join(dir, 'source.sqlite'));

/** Generates the sources of one SF, runs the chosen workloads `reps` times on every target. */
const runScale = async (
  plan: BenchPlan,
  sf: number,
  first: boolean,
  publish: (partial: ScaleResult) => void,
): Promise<ScaleResult> => {
  const clock = phaseClock();
  // runBench emptied everything before the first SF (to check the disks against a clean slate).
  if (!first)
    await clock.time('copies', async () => {
      await reset(plan);
      if (plan.mysqlUrl) await dropSourceTables(plan.mysqlUrl);
    });
  const sqlitePath = join(plan.dir, 'source.sqlite');
  const writer = await openSourceWriters(sqlitePath, plan.mysqlUrl);
  const [sqliteVersion, mysqlVersion] = await sourceVersions(sqlitePath, plan.mysqlUrl);
  const generation: GenerationResult[] = [];
  const engines = new Map<EngineTarget, Omit<EngineResult, 'workloads'>>();
  const results = new Map<EngineTarget, WorkloadResult[]>(plan.targets.map((t) => [t, []]));
  let pgloader: ScaleResult['pgloader'];
  let postgresBytes: number | undefined;
  const settling: SettleRecord[] = [];
  const generator = createGenerator(scaleFactorOptions(sf, BENCH_END, { seed: BENCH_SEED }));
  const sources = plan.mysqlUrl ? 'SQLite and MySQL' : 'SQLite';
  const progress = (line: string): void => plan.progress(`SF ${sf} ${line}`);

  const processes = new Map<EngineTarget, CycleProcess>(plan.targets.map((t) => [t, startCycleProcess()]));
  const snapshotResult = (): ScaleResult => ({
    sf,
    historyEnd: new Date(BENCH_END * 1000).toISOString(),
    historyDays: SCALE_FACTOR_DAYS,
    generation,
    engines: [...engines].map(([target, e]) => ({ ...e, workloads: results.get(target) ?? [] })),
    ...(pgloader ? { pgloader } : {}),
    settling,
    ...(postgresBytes !== undefined ? { postgresBytes } : {}),
    embeddedBytes: embeddedBytes(plan.dir),
    phases: clock.seconds(),
  });

  const generate = async (step: string, fn: () => Promise<unknown>): Promise<Record<string, number>> => {
    progress(`generating ${step} into ${sources}`);
    const before = snapshot(generator);
    const started = performance.now();
    await clock.time('generation', async () => {
      await fn();
      // The cycles read MySQL next: its writes run behind the generator's (bench/source.ts).
      await writer.flush();
    });
    const rows = writtenSince(generator, before);
    generation.push({ step, seconds: seconds(started), rows: sumRows(rows) });
    return rows;
  };
  const servers = plan.targets.filter((t) => t.engine === 'postgres');
  const copies = new ReferenceCopies<EngineTarget>(plan.reps);
  const settleDown = async (before: string): Promise<void> => {
    const opened: Warehouse[] = [];
    try {
      for (const t of servers) opened.push(await openWarehouse(t.settings.warehouse));
      const record = await clock.time('settling', () => settle(`SF ${sf} ${before}`, opened));
      settling.push(record);
      const line = settleLine(record);
      if (line) plan.progress(line);
    } finally {
      await Promise.all(opened.map((w) => w.close()));
    }
  };
  const run = async (
    target: EngineTarget,
    workload: WorkloadName,
    rep: number,
    rows: Record<string, number>,
  ) => {
    const cycles = processes.get(target);
    if (!cycles) throw new Error(`bench: no cycle process for ${target.engine}`);
    const now = generator.now + CLOCK_LAG;
    results
      .get(target)
      ?.push(await measure(target, workload, rep, now, rows, cycles, progress, settleDown, clock, copies));
    if (target.engine === 'postgres')
      postgresBytes = Math.max(postgresBytes ?? 0, await databaseBytes(target));
    publish(snapshotResult());
  };

  try {
    const history = await generate(`SF ${sf} history (${SCALE_FACTOR_DAYS} days)`, () =>
      generator.advanceTo(writer, generator.end),
    );
    for (const target of plan.targets) {
      const warehouse = await openWarehouse(target.settings.warehouse);
      try {
        engines.set(target, {
          engine: target.engine,
          warehouse: warehouse.displayUrl,
          source:
            target.settings.source?.kind === 'mysql'
              ? (mysqlVersion ?? 'MySQL')
              : (sqliteVersion ?? 'SQLite'),
          versions: [await engineVersion(warehouse)],
          loadedRows: {},
        });
      } finally {
        await warehouse.close();
      }
      // The initial load again on an empty warehouse, from the same source and clock.
      for (let rep = 1; rep <= plan.reps; rep++) {
        if (rep > 1) await clock.time('copies', () => dropWarehouse(target));
        await run(target, 'W3', rep, history);
      }
      // Only the last load stays for W1 and W2.
      if (target.engine === 'postgres') await clock.time('copies', () => vacuumAnalyzeAll(target.settings));
      const warehouseAfter = await openWarehouse(target.settings.warehouse);
      try {
        const info = engines.get(target);
        if (info)
          engines.set(target, { ...info, loadedRows: await tableSizes(warehouseAfter, target.settings) });
      } finally {
        await warehouseAfter.close();
      }
    }

    const server = plan.targets.find((t) => t.engine === 'postgres');
    const mysqlUrl = plan.mysqlUrl;
    if (server?.pgloaderSchema && mysqlUrl) {
      await settleDown('pgloader');
      progress('pgloader: uni_tracking_spath MySQL → PostgreSQL');
      const schema = server.pgloaderSchema;
      const warehouse = await openWarehouse(server.settings.warehouse);
      try {
        const loaded = await clock.time('pgloader', () =>
          runPgloader({
            mysqlUrl,
            postgresUrl: server.settings.warehouse.url,
            table: 'uni_tracking_spath',
            schema,
            dir: plan.dir,
            countRows: () =>
              withConnection(warehouse, (c) =>
                countRows(c, warehouse.dialect.table(schema, 'uni_tracking_spath')),
              ),
          }),
        );
        await withConnection(warehouse, (c) =>
          c.execute(`drop schema if exists ${warehouse.dialect.quote(schema)} cascade`),
        );
        const w3 = results.get(server)?.find((w) => w.workload === 'W3');
        const extract = w3?.tasks.find((t) => t.task === 'extract');
        const oursRows = w3?.extracted.uni_tracking_spath;
        pgloader = {
          ...loaded,
          ...(oursRows !== undefined && extract
            ? { oursRows, oursRowsPerSecond: oursRows / extract.seconds }
            : {}),
        };
        publish(snapshotResult());
      } finally {
        await warehouse.close();
      }
    }

    // W1 repeats on the next 15-minute batch (the history grows by 0.01 % per repetition), each
    // followed by the daily monitor (W4) with nothing new at the source.
    if (plan.workloads.has('W1'))
      for (let rep = 1; rep <= plan.reps; rep++) {
        const rows = await generate(`W1 #${rep}: 1 production batch`, () =>
          productionBatch(generator, writer),
        );
        for (const target of plan.targets) await run(target, 'W1', rep, rows);
        if (plan.workloads.has('W4')) for (const target of plan.targets) await run(target, 'W4', rep, {});
      }
    // W2 repeats on one backlog from the same warehouse state, put back before each repetition: a
    // production-rate day is as large as SF 1's marts, so a backlog on top of the last one would
    // measure a bigger warehouse each time.
    if (plan.workloads.has('W2')) {
      const rows = await generate(`W2: ${BACKLOG_BATCHES} production batches`, async () => {
        for (let i = 0; i < BACKLOG_BATCHES; i++) await productionBatch(generator, writer);
      });
      for (const target of plan.targets) {
        // One repetition needs no copy of the warehouse (at SF 3, tens of GB of PostgreSQL).
        if (plan.reps === 1) {
          await run(target, 'W2', 1, rows);
          continue;
        }
        progress(`${target.engine} W2: keeping the warehouse's state for the repetitions`);
        const kept = await clock.time('copies', () =>
          takeSnapshot(target.settings, target.snapshotSchema ?? 'bench_snapshot'),
        );
        try {
          for (let rep = 1; rep <= plan.reps; rep++) {
            if (rep > 1) {
              progress(`${target.engine} W2: putting the warehouse back for #${rep}`);
              await clock.time('copies', () => kept.restore());
            }
            await run(target, 'W2', rep, rows);
          }
        } finally {
          await clock.time('copies', () => kept.drop());
        }
      }
    }
  } finally {
    await Promise.all([...processes.values()].map((p) => p.close()));
    await writer.close();
  }
  return snapshotResult();
};

/** Runs every SF of the plan in turn (each from empty sources and warehouses) and collects the results. */
export const runBench = async (plan: BenchPlan): Promise<BenchResult> => {
  const cpuList = cpus();
  // Taken at the start, when the cycle processes load the pipeline's code: the code the run measures.
  const rev = revision();
  const done: ScaleResult[] = [];
  const result = (complete: boolean, current?: ScaleResult): BenchResult => ({
    complete,
    date: new Date().toISOString(),
    revision: rev,
    machine: {
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      os: `${osType()} ${release()}`,
      node: process.version,
    },
    seed: BENCH_SEED,
    reps: plan.reps,
    scales: current ? [...done, current] : [...done],
    processMaxRssMb: process.resourceUsage().maxRSS / 1024,
  });
  // Room for the largest SF, checked once the last run's leftovers are gone (each SF drops the one before).
  await reset(plan);
  await plan.checkDisk?.(Math.max(...plan.scales));
  for (const [i, sf] of plan.scales.entries())
    done.push(await runScale(plan, sf, i === 0, (partial) => plan.checkpoint(result(false, partial))));
  return result(true);
};
