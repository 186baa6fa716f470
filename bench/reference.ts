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
  type MartName,
  type MartSpec,
} from '../src/pipeline/marts.js';
import { exceptionsTable } from '../src/pipeline/meta.js';
import { periodAt, RETENTION_SECONDS, type Period } from '../src/pipeline/periods.js';
import { rawTableName, type SourceTableName } from '../src/pipeline/tables.js';

/** The reference's session setting: at the stock 4 MB its NOT IN guards fall back to per-row subplans. */
export const REFERENCE_WORK_MEM = '256MB';

/** Test sessions running at once, as `dbt test` with the seed's `threads: 4`. */
const TEST_THREADS = 4;

/** Where the copies live: the reference's marts, hist and exceptions; the floor's marts; test failures. */
export interface ReferenceSchemas {
  readonly ref: string;
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

export interface ReferenceResult {
  readonly workMem: string;
  /** The hist period its post-hooks archive to (the seed hard-codes one "current" period). */
  readonly period: string;
  /** mart_uti, mart_ecs, mart_uts, tests. */
  readonly models: readonly ModelTiming[];
  /** Wall clock of mart_uti, then mart_ecs ∥ mart_uts. */
  readonly martsSeconds: number;
  readonly testsSeconds: number;
  /** Plain INSERT … SELECT of each mart's deduplicated batch into a copy of it, one step per mart. */
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
 * the reference schema (no indexes: the seed configures none, and dbt-postgres creates none), and
 * the marts with the same indexes as the product's (none unique: the floor appends) into the floor
 * schema; then VACUUM ANALYZE, as a long-lived table would have statistics and nothing left
 * for autovacuum. Returns the current period.
 */
export const prepareReference = async (
  warehouse: Warehouse,
  settings: Settings,
  schemas: ReferenceSchemas,
): Promise<Period> =>
  withConnection(warehouse, async (c) => {
    const d = warehouse.dialect;
    const ods = settings.schemas.mart;
    for (const s of [schemas.ref, schemas.floor, schemas.audit]) {
      await c.execute(`drop schema if exists ${d.quote(s)} cascade`);
      await c.execute(`create schema ${d.quote(s)}`);
    }
    const uti = martSpec('mart_uti');
    const max = await c.query<{ m: number | null }>(
      `select max(update_time) as m from ${d.table(ods, uti.table)}`,
    );
    const period = periodAt(Number(max[0]?.m ?? 0) - RETENTION_SECONDS);
    const copies: string[] = [];
    const copy = async (schema: string, table: string, from: string): Promise<void> => {
      await c.execute(`create table ${d.table(schema, table)} as select * from ${from}`);
      copies.push(d.table(schema, table));
    };
    for (const spec of marts) {
      await copy(schemas.ref, spec.table, d.table(ods, spec.table));
      const hist = histTableName(spec, period.name);
      const ours = await warehouse.describeTable(ods, hist);
      await copy(schemas.ref, hist, ours ? d.table(ods, hist) : `${d.table(ods, spec.table)} where false`);
      await copy(schemas.floor, spec.table, d.table(ods, spec.table));
      const indexes = await c.query<{ indexdef: string }>(
        `select indexdef from pg_indexes where schemaname = $1 and tablename = $2`,
        [ods, spec.table],
      );
      for (const { indexdef } of indexes) {
        const using = /\sUSING\s.*$/i.exec(indexdef)?.[0];
        if (using) await c.execute(`create index on ${d.table(schemas.floor, spec.table)}${using}`);
      }
    }
    const e = exceptionsTable(settings.schemas);
    await copy(schemas.ref, e.name, d.table(e.schema, e.name));
    // VACUUM too: a fresh copy is what autovacuum visits next, possibly inside a measured run.
    for (const table of copies) await c.execute(`vacuum (analyze) ${table}`);
    return period;
  });

/** Runs the reference models, their tests, and the floor on the copies `prepareReference` made. */
export const runReference = async (
  warehouse: Warehouse,
  settings: Settings,
  schemas: ReferenceSchemas,
  period: Period,
  window: BatchWindow,
  /** Runs before the reference's marts and before the floor, as it ran before ours. */
  settleDown: (step: 'reference' | 'floor') => Promise<void>,
): Promise<ReferenceResult> => {
  const d = warehouse.dialect;
  const ref = (table: string): string => d.table(schemas.ref, table);
  const batch = (spec: MartSpec): { batch_from: number; batch_to: number } => {
    const range = window.get(spec.source);
    if (!range) throw new Error(`reference: no raw batch of ${spec.source} in this cycle`);
    return { batch_from: range[0], batch_to: range[1] };
  };
  const modelValues = async (name: MartName): Promise<Record<string, string | number>> => {
    const spec = martSpec(name);
    return {
      mart: ref(spec.table),
      hist: ref(histTableName(spec, period.name)),
      exceptions: ref(exceptionsTable(settings.schemas).name),
      uti: ref(martSpec('mart_uti').table),
      raw: d.table(settings.schemas.raw, rawTableName(spec.source)),
      tmp: d.quote(`${spec.table}__dbt_tmp`),
      columns: await columnList(warehouse, schemas.ref, spec.table),
      period_start: period.start,
      period_end: period.end,
      ...batch(spec),
    };
  };
  const model = (name: MartName): Promise<ModelTiming> =>
    withConnection(warehouse, async (c) => {
      await c.execute(`set work_mem = '${REFERENCE_WORK_MEM}'`);
      const values = await modelValues(name);
      const timing = await c.transaction(() => runSteps(c, name, loadSteps(name), values));
      await c.execute(`drop table if exists ${values.tmp}`);
      await c.execute('reset work_mem');
      return timing;
    });

  await settleDown('reference');
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

  // The floor runs on the product's own sessions, with the settings the product gives them.
  await settleDown('floor');
  const floor = await withConnection(warehouse, async (c) => {
    const started = performance.now();
    const [insert] = loadSteps('floor');
    if (!insert) throw new Error('reference/floor.sql holds no step');
    const steps: StepTiming[] = [];
    for (const spec of marts) {
      const timing = await runSteps(c, spec.name, [insert], {
        mart: d.table(schemas.floor, spec.table),
        raw: d.table(settings.schemas.raw, rawTableName(spec.source)),
        columns: await columnList(warehouse, schemas.floor, spec.table),
        key: spec.key.map(d.quote).join(', '),
        version: [...spec.version, '_batch_id'].map((v) => `${d.quote(v)} desc`).join(', '),
        ...batch(spec),
      });
      steps.push(...timing.steps.map((s) => ({ ...s, step: spec.name })));
    }
    return { model: 'floor', seconds: seconds(started), steps };
  });

  return {
    workMem: REFERENCE_WORK_MEM,
    period: period.name,
    models: [uti, ecs, uts, tests],
    martsSeconds,
    testsSeconds: tests.seconds,
    floor,
  };
};
