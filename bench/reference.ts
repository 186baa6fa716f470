/**
 * The dbt-style reference (issue 4): the seed deployment's mart models and post-hooks, executed the
 * way dbt-postgres runs them, on copies of the product's marts and the same raw batches. Apart from
 * the product on purpose: nothing in src/ reads this. The SQL lives in `reference/*.sql`.
 *
 * How dbt-postgres runs an incremental delete+insert model: `create temporary table … as (<model>)`,
 * `delete … where (key) in (select key from tmp)` (`delete … using tmp` for a composite key, plus
 * any incremental predicate), `insert into … (select … from tmp)`, then the post-hooks, all in one
 * transaction. The seed's Airflow DAG runs mart_uti, then mart_ecs ∥ mart_uts, then
 * `dbt test --select mart --store-failures` (threads: 4 in the seed's production profile).
 *
 * Two variants run on separate copies: `plain`, the seed's SQL on tables without an index (dbt-postgres
 * creates none, and none is needed on Redshift), and `indexed`, the same SQL with the indexes a
 * PostgreSQL user would add (`REFERENCE_INDEXES`).
 *
 * Inputs: mart_uti reads raw by the seed's own source cutoff (`update_time > max(mart) − 1800`);
 * mart_ecs and mart_uts read the cycle's raw batches, so both sides dedup the same rows (the seed's
 * own cutoffs for those two would skip a 24-hour backlog's older orders and its late scans).
 */
import { readFileSync } from 'node:fs';
import type { Settings } from '../src/config/settings.js';
import type { Warehouse, WarehouseConnection } from '../src/engines/warehouse/warehouse.js';
import { withConnection } from '../src/engines/warehouse/warehouse.js';
import {
  histTableName,
  mart as martSpec,
  marts,
  storageKey,
  type MartName,
  type MartSpec,
} from '../src/pipeline/marts.js';
import { exceptionsTable } from '../src/pipeline/meta.js';
import { periodAt, RETENTION_SECONDS, type Period } from '../src/pipeline/periods.js';
import { rawTableName, sourceTable, type SourceTableName } from '../src/pipeline/tables.js';
import { withoutAutovacuum } from './autovacuum.js';
import { countRows } from './catalog.js';
import type { WorkloadName } from './results.js';
import { tableBytes, onConnections, vacuumAnalyzeSchemas, type BulkJob } from './parallel.js';

/** The reference's session setting: at the stock 4 MB its NOT IN guards fall back to per-row subplans. */
export const REFERENCE_WORK_MEM = '256MB';

/** Test sessions running at once, as `dbt test` with the seed's `threads: 4`. */
const TEST_THREADS = 4;

export const REFERENCE_VARIANTS = ['plain', 'indexed'] as const;
export type ReferenceVariant = (typeof REFERENCE_VARIANTS)[number];

/**
 * The indexes a PostgreSQL user gives the seed's tables (none unique: the seed's SQL can write
 * duplicates, and a unique index would fail its insert): each mart's key and time column; each hist
 * table's `order_id` (its guards look orders up), scans' also `(order_id, pathtime)` (the safety
 * check's probe); the ledger's `order_id`. Raw gets its cursor column for the run and loses it
 * after (an extraction cost, not a mart's).
 */
export const referenceIndexes = (spec: MartSpec): { mart: string[][]; hist: string[][] } => ({
  mart: [[...spec.key], [spec.ts]],
  hist: spec.key.length > 1 ? [['order_id'], ['order_id', spec.ts]] : [['order_id']],
});

/** Where the copies live: each variant's marts, hist and exceptions; the floor's marts; test failures. */
export interface ReferenceSchemas {
  readonly plain: string;
  readonly indexed: string;
  readonly floor: string;
  readonly audit: string;
}

/** Raw batches one cycle landed, per source table: `[first, last]`. */
export type BatchWindow = ReadonlyMap<SourceTableName, readonly [number, number]>;

export interface StepTiming {
  readonly step: string;
  readonly seconds: number;
  readonly rows: number;
}

export interface ModelTiming {
  readonly model: string;
  readonly seconds: number;
  readonly steps: readonly StepTiming[];
}

/** What the reference got wrong on this data, beside its time. */
export interface ReferenceProblems {
  /** Failing rows per data test (unique tests: keys that occur more than once). */
  readonly testFailures: Readonly<Record<string, number>>;
  /** Per mart: its rows minus ours after the same batches (duplicates kept, rows lost). */
  readonly rowsOverOurs: Readonly<Record<string, number>>;
}

export interface VariantResult {
  readonly variant: ReferenceVariant;
  /** Rows per mart after its cycle (where the next W1 repetition's copies start). */
  readonly martRows: Readonly<Record<string, number>>;
  /** mart_uti, mart_ecs, mart_uts. */
  readonly models: readonly ModelTiming[];
  /** Wall clock of mart_uti, then mart_ecs ∥ mart_uts. */
  readonly martsSeconds: number;
  /** `dbt test` on 4 sessions, one step per test. */
  readonly tests: ModelTiming;
  readonly problems: ReferenceProblems;
}

export interface ReferenceResult {
  readonly workMem: string;
  /** The hist period its post-hooks archive to (the seed hard-codes one "current" period). */
  readonly period: string;
  readonly variants: readonly VariantResult[];
  /**
   * The deduplicated batch appended to an indexed copy of each mart, on ours's critical path
   * (mart_uti, then mart_ecs ∥ mart_uts): one step per mart, `seconds` is the wall clock.
   */
  readonly floor: ModelTiming;
}

interface Step {
  readonly name: string;
  readonly sql: string;
}

/** Reads `reference/<file>.sql`: statements each introduced by a `-- step: <name>` line. */
const loadSteps = (file: string): Step[] => {
  const text = readFileSync(new URL(`./reference/${file}.sql`, import.meta.url), 'utf8');
  const steps: Step[] = [];
  for (const part of text.split(/^-- step: /m).slice(1)) {
    const newline = part.indexOf('\n');
    const sql = part
      .slice(newline + 1)
      .replace(/^\s*--.*$/gm, '')
      .trim()
      .replace(/;$/, '');
    steps.push({ name: part.slice(0, newline).trim(), sql });
  }
  return steps;
};

/** Fills `{{name}}` placeholders; a placeholder without a value is a bug in the caller. */
const render = (sql: string, values: Readonly<Record<string, string | number>>): string =>
  sql.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`reference SQL: no value for {{${name}}}`);
    return String(value);
  });

const seconds = (started: number): number => (performance.now() - started) / 1000;

const runSteps = async (
  c: WarehouseConnection,
  model: string,
  steps: readonly Step[],
  values: Readonly<Record<string, string | number>>,
): Promise<ModelTiming> => {
  const started = performance.now();
  const timings: StepTiming[] = [];
  for (const step of steps) {
    const t = performance.now();
    const rows = await c.execute(render(step.sql, values));
    timings.push({ step: step.name, seconds: seconds(t), rows });
  }
  return { model, seconds: seconds(started), steps: timings };
};

/** The columns of a table, quoted, in table order. */
const columnList = async (warehouse: Warehouse, schema: string, table: string): Promise<string> => {
  const columns = await warehouse.describeTable(schema, table);
  if (!columns) throw new Error(`reference: ${schema}.${table} does not exist`);
  return columns.map((c) => warehouse.dialect.quote(c.name)).join(', ');
};

/**
 * Copies the product's marts, its hist tables of the current period and its exceptions ledger into
 * each variant's schema (the indexed one then gets `referenceIndexes`), and the marts with the
 * product's own indexes (none unique: the floor appends) into the floor schema; then VACUUM
 * ANALYZE, as a long-lived table would have statistics and nothing left for autovacuum. Returns
 * the current period.
 */
export const prepareReference = async (
  warehouse: Warehouse,
  settings: Settings,
  schemas: ReferenceSchemas,
): Promise<Period> => {
  const d = warehouse.dialect;
  const ods = settings.schemas.mart;
  const e = exceptionsTable(settings.schemas);
  // Each copy is one job: the table, its indexes, then VACUUM too (a fresh copy is what autovacuum
  // visits next, possibly inside a measured run); the jobs share the connections of `onConnections`.
  const { period, jobs } = await withConnection(warehouse, async (c) => {
    for (const s of [schemas.plain, schemas.indexed, schemas.floor, schemas.audit]) {
      await c.execute(`drop schema if exists ${d.quote(s)} cascade`);
      await c.execute(`create schema ${d.quote(s)}`);
    }
    const uti = martSpec('mart_uti');
    const max = await c.query<{ m: number | null }>(
      `select max(update_time) as m from ${d.table(ods, uti.table)}`,
    );
    const period = periodAt(Number(max[0]?.m ?? 0) - RETENTION_SECONDS);
    const jobs: BulkJob[] = [];
    /** `from.empty`: the table's columns and no rows (a hist period not archived yet). */
    const copy = async (
      schema: string,
      table: string,
      from: { table: string; empty?: true },
      indexes: readonly string[],
    ): Promise<void> => {
      const target = d.table(schema, table);
      const bytes = from.empty ? 0 : await tableBytes(c, from.table);
      jobs.push({
        weight: bytes * (1 + indexes.length),
        run: async (j) => {
          await j.execute(
            `create table ${target} as select * from ${from.table}${from.empty ? ' where false' : ''}`,
          );
          for (const sql of indexes) await j.execute(sql);
          await j.execute(`vacuum (analyze) ${target}`);
        },
      });
    };
    const wanted = (schema: string, table: string, columns: readonly (readonly string[])[]): string[] =>
      columns.map((cols) => d.createIndex(schema, table, cols)).filter((sql): sql is string => !!sql);
    for (const spec of marts) {
      const hist = histTableName(spec, period.name);
      const ours = await warehouse.describeTable(ods, hist);
      const martFrom = { table: d.table(ods, spec.table) };
      const histFrom = ours ? { table: d.table(ods, hist) } : { ...martFrom, empty: true as const };
      const { mart, hist: histIndexes } = referenceIndexes(spec);
      await copy(schemas.plain, spec.table, martFrom, []);
      await copy(schemas.plain, hist, histFrom, []);
      await copy(schemas.indexed, spec.table, martFrom, wanted(schemas.indexed, spec.table, mart));
      await copy(schemas.indexed, hist, histFrom, wanted(schemas.indexed, hist, histIndexes));
      const indexes = await c.query<{ indexdef: string }>(
        `select indexdef from pg_indexes where schemaname = $1 and tablename = $2`,
        [ods, spec.table],
      );
      const floorIndexes = indexes.flatMap(({ indexdef }) => {
        const using = /\sUSING\s.*$/i.exec(indexdef)?.[0];
        return using ? [`create index on ${d.table(schemas.floor, spec.table)}${using}`] : [];
      });
      await copy(schemas.floor, spec.table, martFrom, floorIndexes);
    }
    const exceptions = { table: d.table(e.schema, e.name) };
    await copy(schemas.plain, e.name, exceptions, []);
    await copy(schemas.indexed, e.name, exceptions, wanted(schemas.indexed, e.name, [['order_id']]));
    return { period, jobs };
  });
  await onConnections(warehouse, jobs);
  return period;
};

/**
 * W1's copies are kept from one repetition to the next, as a deployed reference keeps its own marts
 * (ours carry on too): what they and ours held before this cycle, so `rowsOverOurs` stays one
 * cycle's. Without it the copies were just made from ours.
 */
export interface KeptCopies {
  readonly ours: Readonly<Record<string, number>>;
  readonly reference: ReadonlyMap<ReferenceVariant, Readonly<Record<string, number>>>;
}

/** W1's copies as a repetition leaves them: their hist period, and each variant's rows per mart. */
export interface KeptState {
  readonly period: Period;
  readonly rows: KeptCopies['reference'];
}

/**
 * The copies W1 keeps between its repetitions, per engine: made before the first, then carried on
 * by the reference as ours are by our cycles, instead of three whole copies of the marts before each.
 * The daily monitor (W4) between two repetitions leaves them be; W2, which makes fresh ones before
 * every repetition (it starts from the same state each time), ends them.
 */
export class ReferenceCopies<Target> {
  readonly #kept = new Map<Target, KeptState>();

  constructor(private readonly reps: number) {}

  /** What a workload's repetition starts from: the kept copies (W1), or none, to make fresh ones. */
  take(target: Target, workload: WorkloadName): KeptState | undefined {
    if (workload === 'W2') this.#kept.delete(target);
    return workload === 'W1' ? this.#kept.get(target) : undefined;
  }

  /** Whether this repetition's copies are kept for the next one: W1's, but for its last. */
  keeps(workload: WorkloadName, rep: number): boolean {
    return workload === 'W1' && rep < this.reps;
  }

  keep(target: Target, copies: KeptState): void {
    this.#kept.set(target, copies);
  }
}

/**
 * Between W1's repetitions: VACUUM ANALYZE of the copies the reference and the floor wrote, as the
 * daily monitor maintains ours (W4), so no autovacuum pass over them lands in a measured step.
 */
export const maintainReference = (warehouse: Warehouse, schemas: ReferenceSchemas): Promise<void> =>
  vacuumAnalyzeSchemas(warehouse, [schemas.plain, schemas.indexed, schemas.floor]);

/** Rows per mart (keyed by mart name) in a schema that holds the marts: ours, or a copy's. */
export const rowsPerMart = async (warehouse: Warehouse, schema: string): Promise<Record<string, number>> =>
  withConnection(warehouse, async (c) => {
    const n: Record<string, number> = {};
    for (const spec of marts) n[spec.name] = await countRows(c, warehouse.dialect.table(schema, spec.table));
    return n;
  });

/** Runs each variant's models and tests, then the floor, on the copies `prepareReference` made. */
export const runReference = async (
  warehouse: Warehouse,
  settings: Settings,
  schemas: ReferenceSchemas,
  period: Period,
  window: BatchWindow,
  /** Runs before each variant's marts and before the floor, as it ran before ours. */
  settleDown: (step: string) => Promise<void>,
  kept?: KeptCopies,
): Promise<ReferenceResult> => {
  const d = warehouse.dialect;
  const raw = (spec: MartSpec): string => d.table(settings.schemas.raw, rawTableName(spec.source));
  const batch = (spec: MartSpec): { batch_from: number; batch_to: number } => {
    const range = window.get(spec.source);
    if (!range) throw new Error(`reference: no raw batch of ${spec.source} in this cycle`);
    return { batch_from: range[0], batch_to: range[1] };
  };
  const oursRows = await rowsPerMart(warehouse, settings.schemas.mart);

  const variant = async (name: ReferenceVariant): Promise<VariantResult> => {
    const schema = name === 'plain' ? schemas.plain : schemas.indexed;
    const ref = (table: string): string => d.table(schema, table);
    const modelValues = async (mart: MartName): Promise<Record<string, string | number>> => {
      const spec = martSpec(mart);
      return {
        mart: ref(spec.table),
        hist: ref(histTableName(spec, period.name)),
        exceptions: ref(exceptionsTable(settings.schemas).name),
        uti: ref(martSpec('mart_uti').table),
        raw: raw(spec),
        tmp: d.quote(`${spec.table}__dbt_tmp`),
        columns: await columnList(warehouse, schema, spec.table),
        period_start: period.start,
        period_end: period.end,
        ...batch(spec),
      };
    };
    const model = (mart: MartName): Promise<ModelTiming> =>
      withConnection(warehouse, async (c) => {
        await c.execute(`set work_mem = '${REFERENCE_WORK_MEM}'`);
        const values = await modelValues(mart);
        const timing = await c.transaction(() => runSteps(c, mart, loadSteps(mart), values));
        await c.execute(`drop table if exists ${values.tmp}`);
        await c.execute('reset work_mem');
        return timing;
      });
    const cursorIndexes = marts.map((spec) => ({
      name: `bench_ref_cursor_${spec.source}`,
      table: raw(spec),
      column: sourceTable(spec.source).cursor.column,
    }));
    if (name === 'indexed')
      await withConnection(warehouse, async (c) => {
        for (const i of cursorIndexes) {
          await c.execute(
            `create index if not exists ${d.quote(i.name)} on ${i.table} (${d.quote(i.column)})`,
          );
          await c.execute(`analyze ${i.table}`);
        }
      });
    try {
      await withConnection(warehouse, async (c) => {
        await c.execute(`drop schema if exists ${d.quote(schemas.audit)} cascade`);
        await c.execute(`create schema ${d.quote(schemas.audit)}`);
      });
      await settleDown(`reference ${name}`);
      return await withoutAutovacuum(warehouse, [schema, settings.schemas.raw], async () => {
        const martsStarted = performance.now();
        const uti = await model('mart_uti');
        const [ecs, uts] = await Promise.all([model('mart_ecs'), model('mart_uts')]);
        const martsSeconds = seconds(martsStarted);

        const testValues = {
          audit: d.quote(schemas.audit),
          uti: ref(martSpec('mart_uti').table),
          ecs: ref(martSpec('mart_ecs').table),
          uts: ref(martSpec('mart_uts').table),
        };
        const queue = [...loadSteps('tests')];
        const testTimings: StepTiming[] = [];
        const testsStarted = performance.now();
        await Promise.all(
          Array.from({ length: TEST_THREADS }, () =>
            withConnection(warehouse, async (c) => {
              await c.execute(`set work_mem = '${REFERENCE_WORK_MEM}'`);
              for (let step = queue.shift(); step; step = queue.shift())
                testTimings.push(...(await runSteps(c, 'tests', [step], testValues)).steps);
              await c.execute('reset work_mem');
            }),
          ),
        );
        const tests: ModelTiming = { model: 'tests', seconds: seconds(testsStarted), steps: testTimings };
        const martRows = await rowsPerMart(warehouse, schema);
        const rowsOverOurs = Object.fromEntries(
          marts.map((spec) => {
            // Kept copies may already differ from ours by the cycles before: only this one's counts.
            const before = kept
              ? (kept.reference.get(name)?.[spec.name] ?? 0) - (kept.ours[spec.name] ?? 0)
              : 0;
            return [spec.name, (martRows[spec.name] ?? 0) - (oursRows[spec.name] ?? 0) - before];
          }),
        );
        const testFailures = Object.fromEntries(testTimings.map((t) => [t.step, t.rows]));
        return {
          variant: name,
          martRows,
          models: [uti, ecs, uts],
          martsSeconds,
          tests,
          problems: { testFailures, rowsOverOurs },
        };
      });
    } finally {
      if (name === 'indexed')
        await withConnection(warehouse, async (c) => {
          for (const i of cursorIndexes)
            await c.execute(`drop index if exists ${d.table(settings.schemas.raw, i.name)}`);
        });
    }
  };

  const variants: VariantResult[] = [];
  for (const name of REFERENCE_VARIANTS) variants.push(await variant(name));

  // The floor runs on the product's own sessions, with the settings the product gives them, and on
  // ours's critical path; each mart's batch deduplicated in the mart's index order, as ours is.
  await settleDown('floor');
  const [insert] = loadSteps('floor');
  if (!insert) throw new Error('reference/floor.sql holds no step');
  const floorStep = (spec: MartSpec): Promise<StepTiming> =>
    withConnection(warehouse, async (c) => {
      const key = storageKey(spec).map(d.quote).join(', ');
      const timing = await runSteps(c, spec.name, [insert], {
        mart: d.table(schemas.floor, spec.table),
        raw: raw(spec),
        columns: await columnList(warehouse, schemas.floor, spec.table),
        key,
        version: [...spec.version, '_batch_id'].map((v) => `${d.quote(v)} desc`).join(', '),
        ...batch(spec),
      });
      return { step: spec.name, seconds: timing.seconds, rows: timing.steps[0]?.rows ?? 0 };
    });
  const floor = await withoutAutovacuum(warehouse, [schemas.floor, settings.schemas.raw], async () => {
    const started = performance.now();
    const uti = await floorStep(martSpec('mart_uti'));
    const rest = await Promise.all([floorStep(martSpec('mart_ecs')), floorStep(martSpec('mart_uts'))]);
    return { model: 'floor', seconds: seconds(started), steps: [uti, ...rest] };
  });

  return { workMem: REFERENCE_WORK_MEM, period: period.name, variants, floor };
};
