import type { WarehouseConnection } from '../../engines/warehouse/warehouse.js';
import type { RunContext, TaskOutcome } from '../../runner/context.js';
import { faultPoint } from '../../runner/faults.js';
import { queryOne, type Task } from '../../runner/task.js';
import { listHistTables } from '../hist.js';
import {
  archivesStageFirst,
  deltaTable,
  matchTable,
  planApply,
  planApplyMaxTs,
  planArchive,
  planBadRows,
  planFutureBatches,
  planMark,
  planOldestAged,
  planRevive,
  planStage,
  stageTable,
  type ArchiveFacts,
  type MartFacts,
  type Statement,
} from '../mart-sql.js';
import { histTableName, mart as martSpec, type MartSpec } from '../marts.js';
import { metaTables } from '../meta.js';
import { periodsBetween, retentionCutoff, type Period } from '../periods.js';

const markOf = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  mart: string,
  source: string,
): Promise<number> => {
  const t = metaTables(ctx.settings.schemas).martState;
  const row = await queryOne<{ batch_id: number }>(
    c,
    `select batch_id from ${ctx.warehouse.dialect.table(t.schema, t.name)} where mart = $1 and source_table = $2`,
    [mart, source],
  );
  return Number(row?.batch_id ?? 0);
};

/** What planning a mart needs from a run: its settings, warehouse and clock. */
export type PlanContext = Pick<RunContext, 'settings' | 'warehouse' | 'now'>;

/** Facts a mart's SQL is planned from, read from the warehouse (read-only). */
export const gatherMartFacts = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  spec: MartSpec,
): Promise<MartFacts> => {
  const { settings, warehouse } = ctx;
  const d = warehouse.dialect;
  const batches = metaTables(settings.schemas).batches;
  const last = await queryOne<{ m: number }>(
    c,
    `select coalesce(max(batch_id), 0) as m from ${d.table(batches.schema, batches.name)} where table_name = $1 and state = 'validated'`,
    [spec.source],
  );
  const columns = await warehouse.describeTable(settings.schemas.mart, spec.table);
  if (!columns)
    throw new Error(
      `${spec.name}: ${settings.schemas.mart}.${spec.table} does not exist: run \`order-tracking init\``,
    );
  const uti = martSpec('mart_uti');
  const due = planFutureBatches(d, spec, { schemas: settings.schemas, now: ctx.now });
  const dueBatches = await c.query<{ b: number; exact: boolean }>(due.sql, due.params);
  return {
    futureBatches: dueBatches.every((r) => r.exact) ? dueBatches.map((r) => Number(r.b)) : 'all',
    schemas: settings.schemas,
    columns,
    fromBatch: await markOf(c, ctx, spec.name, spec.source),
    toBatch: Number(last?.m ?? 0),
    now: ctx.now,
    histTables: await listHistTables(c, settings.schemas.mart, spec),
    ...(spec.retention === 'order'
      ? {
          fromUtiBatch: await markOf(c, ctx, spec.name, uti.source),
          toUtiBatch: await markOf(c, ctx, uti.name, uti.source),
        }
      : {}),
  };
};

/**
 * The cutoff that ages this mart's rows (SPEC §4): its own for time retention, mart_uti's for
 * mart_ecs. Future rows never reach a mart, and the clock caps the maximum besides.
 */
export const cutoffFor = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  spec: MartSpec,
): Promise<number | null> => {
  const basis = spec.retention === 'order' ? martSpec('mart_uti') : spec;
  const d = ctx.warehouse.dialect;
  const newest = await timestampOf(c, {
    sql: `select max(${d.quote(basis.ts)}) as m from ${d.table(ctx.settings.schemas.mart, basis.table)}`,
    params: [],
  });
  return retentionCutoff(newest, ctx.now);
};

/** The one timestamp `m` a statement selects, or `null`. */
const timestampOf = async (c: WarehouseConnection, s: Statement): Promise<number | null> => {
  const row = await queryOne<{ m: number | null }>(c, s.sql, s.params);
  return row?.m === null || row?.m === undefined ? null : Number(row.m);
};

/**
 * The archive of the mart's rows older than `cutoff` (SPEC §4), or of `stage`'s, over the periods
 * from the oldest aged row, and the periods it visits. A stage's archive leaves frozen periods out:
 * their rows go into the mart, where the archive after the apply holds them under an exception.
 */
const archiveOf = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  spec: MartSpec,
  columns: MartFacts['columns'],
  cutoff: number,
  existing: readonly string[],
  stage?: string,
): Promise<{ statements: Statement[]; periods: Period[] }> => {
  const d = ctx.warehouse.dialect;
  const { schemas } = ctx.settings;
  const frozen = new Set(ctx.settings.frozenPeriods);
  const oldest = await timestampOf(c, planOldestAged(d, spec, schemas, cutoff, stage));
  if (oldest === null) return { statements: [], periods: [] };
  const periods = periodsBetween(oldest, cutoff).filter((p) => stage === undefined || !frozen.has(p.name));
  const facts: ArchiveFacts = { schemas, columns, cutoff, periods, frozen, existing };
  return { statements: planArchive(d, spec, facts, stage), periods };
};

/**
 * `archiveStageFirst`: the archive of the staged rows that are aged already, to run inside the
 * apply (`planApply`), and the hist tables it creates. Time-retention marts only: their cutoff
 * after the apply is known from the mart and the stage (`planApplyMaxTs`). Frozen periods stay
 * with the archive after the apply, which keeps their rows in the mart under an exception.
 */
const stageArchiveFor = async (
  c: WarehouseConnection,
  ctx: PlanContext,
  spec: MartSpec,
  facts: MartFacts,
): Promise<{ statements: Statement[]; created: string[] }> => {
  const none = { statements: [], created: [] };
  const d = ctx.warehouse.dialect;
  if (!archivesStageFirst(d, spec)) return none;
  const cutoff = retentionCutoff(
    await timestampOf(c, planApplyMaxTs(d, spec, ctx.settings.schemas)),
    ctx.now,
  );
  if (cutoff === null) return none;
  const { statements, periods } = await archiveOf(
    c,
    ctx,
    spec,
    facts.columns,
    cutoff,
    facts.histTables,
    stageTable(spec),
  );
  return {
    statements,
    created: periods.map((p) => histTableName(spec, p.name)).filter((h) => !facts.histTables.includes(h)),
  };
};

const run = async (
  c: WarehouseConnection,
  statements: readonly Statement[],
  counts: Record<string, number>,
  log: RunContext['log'],
) => {
  // What the last statement run changed: `onlyFrom` reads it, so a conditional statement must
  // directly follow the one it depends on (an ANALYZE its CREATE TABLE AS).
  let previous = 0;
  for (const s of statements) {
    if (s.onlyFrom !== undefined && previous < s.onlyFrom) continue;
    const started = performance.now();
    const n = await c.execute(s.sql, s.params);
    previous = n;
    log.debug(
      { ms: Math.round(performance.now() - started), rows: n, sql: s.sql.slice(0, 100).replace(/\s+/g, ' ') },
      'statement',
    );
    if (s.counts) counts[s.counts] = (counts[s.counts] ?? 0) + n;
  }
};

/** Plans and applies one mart in one transaction: stage, bad rows, apply, revive, archive, mark. */
export const martTask = (spec: MartSpec): Task => ({
  name: spec.name,
  after: ['validate', ...spec.after],
  timeoutMinutes: spec.timeoutMinutes,
  async run(ctx, scope): Promise<TaskOutcome> {
    const d = ctx.warehouse.dialect;
    return scope.withConnection(async (c) => {
      const facts = await gatherMartFacts(c, ctx, spec);
      const counts: Record<string, number> = {};
      await c.transaction(async () => {
        await run(c, [...planStage(d, spec, facts), ...planBadRows(d, spec, facts)], counts, ctx.log);
        const early = await stageArchiveFor(c, ctx, spec, facts);
        await run(c, planApply(d, spec, facts, early.statements), counts, ctx.log);
        await run(c, planRevive(d, spec, facts), counts, ctx.log);
        const cutoff = await cutoffFor(c, ctx, spec);
        if (cutoff !== null) {
          const existing = [...facts.histTables, ...early.created];
          const archive = await archiveOf(c, ctx, spec, facts.columns, cutoff, existing);
          await run(c, archive.statements, counts, ctx.log);
        }
        await run(
          c,
          planMark(d, ctx.settings.schemas, spec.name, spec.source, facts.toBatch),
          counts,
          ctx.log,
        );
        if (spec.retention === 'order' && facts.toUtiBatch !== undefined)
          await run(
            c,
            planMark(d, ctx.settings.schemas, spec.name, martSpec('mart_uti').source, facts.toUtiBatch),
            counts,
            ctx.log,
          );
        // The work tables go before the commit: committed, DuckDB would first merge every row
        // they hold into its temporary storage (a backlog's 7.6 M-row delta and stage: seconds,
        // and the task's memory peak) only for the drop to discard it.
        for (const t of [deltaTable(spec), matchTable(spec), stageTable(spec), `ot_revive_${spec.name}`])
          await c.execute(`drop table if exists ${t}`);
        faultPoint(`during:${spec.name}`);
      });
      ctx.state.martCounts = { ...(ctx.state.martCounts ?? {}), [spec.name]: counts };
      ctx.state.martRanges = {
        ...(ctx.state.martRanges ?? {}),
        [spec.name]: { from: facts.fromBatch, to: facts.toBatch },
      };
      const archived = Object.entries(counts)
        .filter(([k, n]) => k.startsWith('archived:') && n > 0)
        .map(([k, n]) => `${k.slice(9)} ${n}`);
      const opened = Object.entries(counts)
        .filter(([k, n]) => (k.startsWith('exceptions:') || k.startsWith('gaps:')) && n > 0)
        .reduce((sum, [, n]) => sum + n, 0);
      const parts = [
        `+${counts.inserted ?? 0}`,
        counts.reactivated ? `reactivated ${counts.reactivated}` : '',
        counts.revived ? `revived ${counts.revived}` : '',
        archived.length ? `archived ${archived.join(', ')}` : '',
        opened ? `exceptions +${opened}` : '',
      ].filter(Boolean);
      return {
        rowsRead: counts.inserted ?? 0,
        rowsWritten:
          (counts.inserted ?? 0) +
          Object.entries(counts)
            .filter(([k]) => k.startsWith('archived:'))
            .reduce((s, [, n]) => s + n, 0),
        note: parts.join(', '),
      };
    });
  },
});
