/**
 * A mart's whole plan, in the order it runs (SPEC §3 marts, §4 retention): one place says it, and
 * the mart task, `order-tracking sql` and the golden files all read it. Pure.
 *
 * Some statements depend on what the warehouse holds mid-transaction (the cutoff after the batch is
 * applied, the oldest row that aged out): such a step is a look-up whose answer plans the steps
 * after it. The runner answers it by running the query (`src/runner/plan.ts`); `sql` and the
 * golden tests answer it themselves.
 */
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { histTableName, mart as martSpec, type MartSpec } from '../marts.js';
import { periodsBetween, retentionCutoff } from '../periods.js';
import { exceptionsTable, metaTables } from '../meta.js';
import { stmt, type Statement } from '../statement.js';
import { heldTableName, rawTableName } from '../tables.js';
import { planApply, planMark, planRevive } from './apply.js';
import { archivesStageFirst, planApplyMaxTs, planArchive, planNewestTs, planOldestAged } from './archive.js';
import { planBadRows } from './bad-rows.js';
import type { MartFacts } from './facts.js';
import { complete, deltaTable, stageTable, workTables } from './fragments.js';
import { planStage } from './stage.js';

/** Statements that run one after another. */
export interface StatementsPhase {
  readonly name: string;
  readonly statements: readonly Statement[];
  /**
   * Runs and commits before the mart's transaction opens: only the plan's first phases, and only
   * statements that write the session's own temporary tables (`estimatesCommittedRowsOnly`).
   */
  readonly beforeTransaction?: true;
}

/**
 * A query selecting one timestamp `m` (or NULL); `then` plans what follows from it. `preview`, where
 * given, asks the same of committed tables only, for `sql` to run before the work tables exist.
 */
export interface LookupPhase {
  readonly name: string;
  readonly lookup: Statement;
  readonly preview?: Statement;
  readonly then: (answer: number | null) => readonly Phase[];
}

export type Phase = StatementsPhase | LookupPhase;

export const isLookup = (phase: Phase): phase is LookupPhase => 'lookup' in phase;

/** A plan's leading phases that run before the mart's transaction, and the phases inside it. */
export const splitAtTransaction = (
  phases: readonly Phase[],
): { readonly before: readonly Phase[]; readonly inside: readonly Phase[] } => {
  const n = phases.findIndex((p) => isLookup(p) || !p.beforeTransaction);
  return n < 0 ? { before: phases, inside: [] } : { before: phases.slice(0, n), inside: phases.slice(n) };
};

/** The look-up names, for callers that answer them (`sql`, goldens). */
export const lookups = {
  cutoffAfterApply: 'cutoff after the apply',
  oldestStaged: 'oldest aged row in the stage',
  batchOldest: 'oldest time in the batch',
  batchNewest: 'newest time in the batch',
  cutoff: 'cutoff',
  oldestAged: 'oldest aged row',
} as const;

/**
 * The archive of the rows of `from` (the mart, or its stage) older than `cutoff`, over the periods
 * from the oldest of them, and the hist tables it creates. From the stage, frozen periods are left
 * out: their rows go into the mart, where the archive after the apply holds them under an exception.
 */
const archiveOf = (
  d: Dialect,
  spec: MartSpec,
  f: MartFacts,
  cutoff: number,
  oldest: number | null,
  existing: readonly string[],
  stage?: string,
): { readonly statements: readonly Statement[]; readonly created: readonly string[] } => {
  if (oldest === null) return { statements: [], created: [] };
  const frozen = new Set(f.frozen);
  const periods = periodsBetween(oldest, cutoff).filter((p) => stage === undefined || !frozen.has(p.name));
  return {
    statements: planArchive(
      d,
      spec,
      {
        schemas: f.schemas,
        columns: f.columns,
        cutoff,
        periods,
        frozen,
        existing,
        ...(f.histLayout ? { histLayout: f.histLayout } : {}),
      },
      stage,
    ),
    created: periods
      .filter((p) => !frozen.has(p.name))
      .map((p) => histTableName(spec, p.name))
      .filter((h) => !existing.includes(h)),
  };
};

/** `sql`'s stand-in for the stage's oldest aged row: the oldest such row among the batches it reads. */
const planOldestLanded = (d: Dialect, spec: MartSpec, f: MartFacts, cutoff: number): Statement => {
  const ts = d.quote(spec.ts);
  return stmt(
    `select min(${ts}) as m from ${d.table(f.schemas.raw, rawTableName(spec.source))}\nwhere _batch_id > $1 and _batch_id <= $2 and ${ts} < $3`,
    [f.fromBatch, f.toBatch, cutoff],
  );
};

/**
 * The tables the mart's transaction writes, locked first where the engine asks for it
 * (`Dialect.lockTables`), in one order for every mart so that two marts wait rather than deadlock.
 */
const planLock = (d: Dialect, spec: MartSpec, f: MartFacts): Phase[] => {
  const e = exceptionsTable(f.schemas);
  const state = metaTables(f.schemas).martState;
  const tables = [
    [f.schemas.mart, spec.table],
    ...f.histTables.map((h) => [f.schemas.mart, h]),
    [e.schema, e.name],
    [state.schema, state.name],
    ...(f.held === 'create' ? [] : [[f.schemas.raw, heldTableName(spec.source)]]),
  ]
    .map(([schema, table]) => d.table(schema ?? '', table ?? ''))
    .sort();
  const sql = d.lockTables(tables);
  return sql ? [{ name: 'lock', statements: [stmt(sql)] }] : [];
};

/**
 * Stage the batch and open exceptions for its bad rows; apply it (on an `archiveStageFirst` engine,
 * moving its already aged rows from the stage to hist first); bring back reactivated orders' rows;
 * archive what aged out; move the consumption marks; drop the work tables. All of it runs in one
 * transaction (SPEC §3: a mart's apply commits atomically), but for the batch's temporary table on
 * an engine that plans by committed rows only: it is built just before (`beforeTransaction`).
 */
export const planMart = (d: Dialect, spec: MartSpec, f: MartFacts): readonly Phase[] => {
  const lock = planLock(d, spec, f);
  // The batch, deduplicated: committed first where the engine plans by committed rows only, so that
  // the match and the apply are planned with its size.
  const ahead = d.capabilities.estimatesCommittedRowsOnly;
  const batch: StatementsPhase = {
    name: 'batch',
    statements: planStage(d, spec, f, 'delta'),
    ...(ahead ? { beforeTransaction: true as const } : {}),
  };
  const withBatch = (after: readonly Phase[]): readonly Phase[] =>
    ahead ? [batch, ...lock, ...after] : [...lock, batch, ...after];
  if (!d.capabilities.rangeLiterals || !spec.key.includes(spec.ts))
    return ahead
      ? withBatch(planFromStage(d, spec, f, planStage(d, spec, f, 'rest')))
      : [...lock, ...planFromStage(d, spec, f, planStage(d, spec, f))];
  // The batch's time range, for the statements after the deduplicated batch (`batchRange`); an
  // empty batch gets an empty range.
  const ts = d.quote(spec.ts);
  const batchTs = (agg: 'min' | 'max'): Statement =>
    stmt(`select ${agg}(${ts}) as m from ${deltaTable(spec)}`);
  const landedTs = (agg: 'min' | 'max'): Statement =>
    stmt(
      `select ${agg}(${ts}) as m from ${d.table(f.schemas.raw, rawTableName(spec.source))}\nwhere _batch_id > $1 and _batch_id <= $2 and ${complete(d, spec)}`,
      [f.fromBatch, f.toBatch],
    );
  return withBatch([
    {
      name: lookups.batchOldest,
      lookup: batchTs('min'),
      preview: landedTs('min'),
      then: (lo) => [
        {
          name: lookups.batchNewest,
          lookup: batchTs('max'),
          preview: landedTs('max'),
          then: (hi) => {
            const g: MartFacts = { ...f, batchRange: { lo: lo ?? 0, hi: hi ?? -1 } };
            return planFromStage(d, spec, g, planStage(d, spec, g, 'rest'));
          },
        },
      ],
    },
  ]);
};

/**
 * Everything from the stage on, `stage` being its statements: the bad rows, then the apply (the
 * stage's aged rows archived first where `archivesStageFirst`), revive, archive, marks, cleanup.
 */
const planFromStage = (
  d: Dialect,
  spec: MartSpec,
  f: MartFacts,
  staged: readonly Statement[],
): readonly Phase[] => {
  const uti = martSpec('mart_uti');
  const finish: readonly Phase[] = [
    {
      name: 'mark',
      statements: [
        ...planMark(d, f.schemas, spec.name, spec.source, f.toBatch),
        ...(spec.retention === 'order' && f.toUtiBatch !== undefined
          ? planMark(d, f.schemas, spec.name, uti.source, f.toUtiBatch)
          : []),
      ],
    },
    // Inside the transaction: dropped after the commit, DuckDB would first merge every row of them
    // into its temporary storage, only for the drop to discard it.
    { name: 'drop work tables', statements: workTables(spec).map((t) => stmt(`drop table if exists ${t}`)) },
  ];
  const archive = (existing: readonly string[]): LookupPhase => ({
    name: lookups.cutoff,
    lookup: planNewestTs(d, spec, f.schemas),
    then: (newest) => {
      const cutoff = retentionCutoff(newest, f.now);
      if (cutoff === null) return finish;
      return [
        {
          name: lookups.oldestAged,
          lookup: planOldestAged(d, spec, f.schemas, cutoff),
          then: (oldest) => [
            { name: 'archive', statements: archiveOf(d, spec, f, cutoff, oldest, existing).statements },
            ...finish,
          ],
        },
      ];
    },
  });
  const apply = (stageArchive: { statements: readonly Statement[]; created: readonly string[] }) => [
    { name: 'apply', statements: planApply(d, spec, f, stageArchive.statements) },
    { name: 'revive', statements: planRevive(d, spec, f) },
    archive([...f.histTables, ...stageArchive.created]),
  ];
  const stage: Phase = { name: 'stage', statements: [...staged, ...planBadRows(d, spec, f)] };
  if (!archivesStageFirst(d, spec)) return [stage, ...apply({ statements: [], created: [] })];
  return [
    stage,
    {
      name: lookups.cutoffAfterApply,
      lookup: planApplyMaxTs(d, spec, f.schemas),
      preview: planNewestTs(d, spec, f.schemas),
      then: (newest) => {
        const cutoff = retentionCutoff(newest, f.now);
        if (cutoff === null) return apply({ statements: [], created: [] });
        return [
          {
            name: lookups.oldestStaged,
            lookup: planOldestAged(d, spec, f.schemas, cutoff, stageTable(spec)),
            preview: planOldestLanded(d, spec, f, cutoff),
            then: (oldest) => apply(archiveOf(d, spec, f, cutoff, oldest, f.histTables, stageTable(spec))),
          },
        ];
      },
    },
  ];
};
