import { join } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { resolveSettings, type CliOptions } from '../config/settings.js';
import { parseSourceUrl, parseWarehouseUrl, redact } from '../config/urls.js';
import { formatReport, writeJson } from '../../bench/report.js';
import { WORKLOADS, type WorkloadName } from '../../bench/results.js';
import { checkDisk } from '../../bench/disk.js';
import { runBench, type EngineTarget } from '../../bench/workloads.js';

export interface BenchFlags {
  /** One scale factor or several, comma-separated (`0.1,1,3`). */
  readonly sf: string;
  readonly reps?: string;
  readonly json?: string;
  /** Default: all three, but W2 only from `QUICK_LOOK_BELOW` up. */
  readonly workloads?: string;
}

/**
 * Below this scale factor the default leaves W2 out: its 96 production batches (8.6 M source rows)
 * do not shrink with SF, and generating and loading them takes minutes, while `--sf 0.02` is the
 * quick look (issue 4: about a minute). `--workloads W3,W1,W2` runs it at any SF.
 */
export const QUICK_LOOK_BELOW = 0.1;

const benchDir = join('.order-tracking', 'bench');

/**
 * Schemas of the server run: the bench drops and recreates these in the given PostgreSQL database,
 * never the pipeline's own (`settlement_public`, `settlement_ods`, `order_tracking_meta`).
 */
export const BENCH_SCHEMAS = {
  raw: 'bench_raw',
  mart: 'bench_ods',
  meta: 'bench_meta',
  plain: 'bench_ref',
  indexed: 'bench_ref_indexed',
  floor: 'bench_floor',
  audit: 'bench_ref_audit',
  pgloader: 'bench_pgloader',
  snapshot: 'bench_snapshot',
} as const;

/** `--sf`: a positive number, at most 10. */
export const parseScaleFactor = (raw: string): number => {
  const sf = Number(raw);
  if (!/^\s*(\d+\.?\d*|\.\d+)\s*$/.test(raw) || !(sf > 0) || sf > 10)
    throw new ConfigError(`--sf "${raw}" is not a number greater than 0 and at most 10`);
  return sf;
};

/** `--sf 0.1,1,3`: distinct scale factors, run in ascending order. */
export const parseScaleFactors = (raw: string): number[] => {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.some((p) => p === ''))
    throw new ConfigError(`--sf "${raw}" has an empty entry (use e.g. 0.1,1,3)`);
  return [...new Set(parts.map(parseScaleFactor))].sort((a, b) => a - b);
};

/** `--reps`: repetitions of each workload, 1 to 9. */
export const parseReps = (raw: string): number => {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || n < 1 || n > 9)
    throw new ConfigError(`--reps "${raw}" is not a whole number from 1 to 9`);
  return n;
};

/** `--workloads W3,W1,W2` (any order, any case). W3 always runs: W1 and W2 need its loaded marts. */
export const parseWorkloads = (raw: string): Set<WorkloadName> => {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new ConfigError(`--workloads "${raw}" names no workload (use W1, W2, W3, W4)`);
  const unknown = names.find((n) => !(WORKLOADS as readonly string[]).includes(n.toUpperCase()));
  if (unknown !== undefined)
    throw new ConfigError(`--workloads: unknown workload "${unknown}" (use W1, W2, W3, W4)`);
  return new Set([...names.map((n) => n.toUpperCase() as WorkloadName), 'W3']);
};

/**
 * `order-tracking bench`: DuckDB + SQLite under `.order-tracking/bench/` always; PostgreSQL +
 * MySQL/MariaDB when both `--warehouse postgres://…` and `--source mysql://…` are given. Flags
 * `--config` and `--batch-size` apply; `ORDER_TRACKING_*` settings in the environment do not, so a
 * shell set up for a real pipeline cannot point the bench at it.
 */
export const benchCommand = async (cli: CliOptions, flags: BenchFlags): Promise<void> => {
  const scales = parseScaleFactors(flags.sf);
  const reps = parseReps(flags.reps ?? '3');
  const smallest = scales[0] ?? 1;
  const workloads = parseWorkloads(
    flags.workloads ?? (smallest < QUICK_LOOK_BELOW ? 'W3,W1,W4' : 'W3,W1,W2,W4'),
  );
  if (Boolean(cli.warehouse) !== Boolean(cli.source))
    throw new ConfigError(
      'bench: give both --warehouse postgres://… and --source mysql://… for the server run, or neither for DuckDB alone',
    );
  const base = { config: cli.config, batchSize: cli.batchSize };
  const targets: EngineTarget[] = [
    {
      engine: 'duckdb',
      settings: resolveSettings(
        {
          ...base,
          warehouse: `duckdb:${join(benchDir, 'warehouse.duckdb')}`,
          source: `sqlite:${join(benchDir, 'source.sqlite')}`,
        },
        {},
      ),
    },
  ];
  let mysqlUrl: string | null = null;
  if (cli.warehouse && cli.source) {
    const warehouse = parseWarehouseUrl(cli.warehouse);
    const source = parseSourceUrl(cli.source);
    if (warehouse.kind !== 'postgres')
      throw new ConfigError(
        `bench: --warehouse ${redact(cli.warehouse)} is not postgres://… (DuckDB always runs, in ${benchDir})`,
      );
    if (source.kind !== 'mysql')
      throw new ConfigError(`bench: --source ${redact(cli.source)} is not mysql://… (SQLite always runs)`);
    mysqlUrl = source.url;
    targets.push({
      engine: 'postgres',
      settings: resolveSettings(
        { ...base, warehouse: warehouse.url, source: source.url },
        {
          ORDER_TRACKING_RAW_SCHEMA: BENCH_SCHEMAS.raw,
          ORDER_TRACKING_MART_SCHEMA: BENCH_SCHEMAS.mart,
          ORDER_TRACKING_META_SCHEMA: BENCH_SCHEMAS.meta,
        },
      ),
      reference: {
        plain: BENCH_SCHEMAS.plain,
        indexed: BENCH_SCHEMAS.indexed,
        floor: BENCH_SCHEMAS.floor,
        audit: BENCH_SCHEMAS.audit,
      },
      pgloaderSchema: BENCH_SCHEMAS.pgloader,
      snapshotSchema: BENCH_SCHEMAS.snapshot,
    });
  }
  const started = performance.now();
  const progress = (line: string): void =>
    void process.stderr.write(`bench [${((performance.now() - started) / 1000).toFixed(0)} s] ${line}\n`);
  if (flags.workloads === undefined && !workloads.has('W2'))
    progress(
      `W2 left out below SF ${QUICK_LOOK_BELOW} (it does not shrink with SF); --workloads W3,W1,W2 runs it`,
    );
  const jsonFile = flags.json ?? join(benchDir, 'results.json');
  let saved = false;
  const result = await runBench({
    scales,
    reps,
    workloads,
    checkDisk: (sf) => checkDisk(sf, targets, mysqlUrl, benchDir, progress),
    dir: benchDir,
    targets,
    mysqlUrl,
    progress,
    checkpoint: (partial) => {
      writeJson(jsonFile, partial);
      saved = true;
    },
  }).catch((error: unknown) => {
    if (saved) progress(`stopped; what was measured so far is in ${jsonFile}`);
    throw error;
  });
  writeJson(jsonFile, result);
  process.stdout.write(formatReport(result));
  process.stdout.write(`\nJSON: ${jsonFile}\n`);
};
