import type { Schemas } from '../../config/settings.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { mart as martSpec, storageKey, type MartSpec } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { stmt, type Statement } from '../statement.js';
import { rawTableName } from '../tables.js';
import type { MartFacts } from './facts.js';
import {
  analyzeIfFilled,
  byRowId,
  deleteFrom,
  histTablesFor,
  inBatchRange,
  exceptionKey,
  keyMatch,
  matchLocator,
  matchTable,
  names,
  periodFilter,
  quoted,
  reviveTable,
  stageTable,
  timeOrder,
} from './fragments.js';

/**
 * Replace the staged keys: out of the mart and out of every hist table (reactivation), then in.
 * `stageArchive` (`archiveStageFirst`) moves the staged rows that are aged already to their hist
 * tables in between, so they never enter the mart.
 */
export const planApply = (
  d: Dialect,
  spec: MartSpec,
  f: MartFacts,
  stageArchive: readonly Statement[] = [],
): Statement[] => {
  const mart = d.table(f.schemas.mart, spec.table);
  const stage = stageTable(spec);
  const cols = names(d, f.columns);
  // The mart's first apply (no consumption mark yet: the initial load) builds its indexes after
  // its insert; init creates none. Kept up row by row they cost PostgreSQL's insert of a large
  // history more than building them does. `create index` blocks writers only, and this
  // transaction is the mart's one writer; readers go on.
  const indexes =
    f.fromBatch === 0
      ? martIndexes(spec).flatMap(({ columns, unique }) => {
          const sql = d.createIndex(f.schemas.mart, spec.table, columns, { unique });
          return sql ? [stmt(sql)] : [];
        })
      : [];
  const replaced = deleteFrom(d, mart, 't');
  const [replacing, replacingWhere] = d.capabilities.stageByLeftJoin
    ? [stage, ' where ot_replaces']
    : [matchTable(spec), ''];
  const locator = matchLocator(d);
  return [
    stmt(
      // Where the match recorded them, by the mart rows' locators (this transaction is the mart's
      // one writer): no key look-up per replaced row. Else an uncorrelated IN: DuckDB plans the
      // correlated EXISTS with this filter as a semi-join that first groups every key of the mart.
      // An EXISTS where IN takes one column (Redshift).
      locator
        ? `${replaced.head} where ${byRowId(locator, `select ot_mart_row from ${replacing}`, replaced.ref)}`
        : spec.key.length === 1 || d.capabilities.rowValueIn
          ? `${replaced.head} where (${quoted(d, spec.key, replaced.ref)}) in (select ${quoted(d, spec.key)} from ${replacing}${replacingWhere})`
          : `${replaced.head} where exists (select 1 from ${replacing} s where ${keyMatch(d, spec, 's', replaced.ref)}${replacingWhere ? ' and s.ot_replaces' : ''})${inBatchRange(d, spec, f, replaced.ref)}`,
      [],
      'replaced',
    ),
    ...histTablesFor(spec, f).map((h) => {
      const hist = deleteFrom(d, d.table(f.schemas.mart, h), 't');
      return stmt(
        `${hist.head} where exists (select 1 from ${stage} s where ${keyMatch(d, spec, 's', hist.ref)}${periodFilter(d, spec, h, 's')})${inBatchRange(d, spec, f, hist.ref)}`,
        [],
        'reactivated',
      );
    }),
    // A gap exception held the version this batch replaced: it no longer describes any row. Before
    // the stage's own archive, which takes the aged rows it superseded out of the stage.
    stmt(
      `update ${d.table(exceptionsTable(f.schemas).schema, exceptionsTable(f.schemas).name)} as e set resolved_at = ${d.now}
 where e.exception_type = '${spec.gapException}' and e.resolved_at is null and e.source_table = '${spec.source}'
   and exists (select 1 from ${stage} s where ${['order_id', ...exceptionKey(spec)].map((k) => `s.${d.quote(k)} = e.${d.quote(k)}`).join(' and ')})`,
      [],
      'resolved:superseded',
    ),
    ...stageArchive,
    stmt(`insert into ${mart} (${cols}) select ${cols} from ${stage}${timeOrder(d, spec)}`, [], 'inserted'),
    // A backlog's rows sit in batch and time ranges the mart's statistics have never seen: without
    // them the data tests plan their look-up of the rows written as a few index probes, millions in
    // fact, where a hash join after a short ANALYZE is many times faster. Autovacuum would get there, later.
    // Straight after the insert: its `onlyFrom` reads the insert's row count.
    ...analyzeIfFilled(d, mart),
    ...indexes,
  ];
};

/**
 * mart_ecs only (SPEC §4 reactivation): orders mart_uti took in since mart_ecs last ran, present
 * in mart_uti but whose ecs row sits in a hist table, bring that row back into mart_ecs.
 */
export const planRevive = (d: Dialect, spec: MartSpec, f: MartFacts): Statement[] => {
  if (spec.retention !== 'order' || f.histTables.length === 0) return [];
  const uti = martSpec('mart_uti');
  const mart = d.table(f.schemas.mart, spec.table);
  const utiMart = d.table(f.schemas.mart, uti.table);
  const utiRaw = d.table(f.schemas.raw, rawTableName(uti.source));
  const cols = names(d, f.columns);
  const revive = reviveTable(spec);
  // Driven from the batch's orders (few) into the hist tables by their order_id index, never a
  // scan of the ever-growing hist tables. mart_uti is asked only of the hist rows found: asked of
  // every batch order, PostgreSQL merge-joined the batch with the whole of mart_uti's index.
  const touched = `h.order_id in (
    select r.order_id from ${utiRaw} r
     where r._batch_id > $1 and r._batch_id <= $2 and r.order_id is not null
       and not exists (select 1 from ${mart} m where m.order_id = r.order_id))
   and exists (select 1 from ${utiMart} u where u.order_id = h.order_id)`;
  const union = f.histTables
    .map((h) => `select ${names(d, f.columns, 'h')} from ${d.table(f.schemas.mart, h)} h where ${touched}`)
    .join('\nunion all\n');
  const range = [f.fromUtiBatch ?? 0, f.toUtiBatch ?? 0];
  return [
    stmt(`drop table if exists ${revive}`),
    stmt(`create temporary table ${revive} as\n${union}`, range),
    stmt(`insert into ${mart} (${cols}) select ${cols} from ${revive}${timeOrder(d, spec)}`, [], 'revived'),
    ...f.histTables.map((h) => {
      const hist = deleteFrom(d, d.table(f.schemas.mart, h), 't');
      return stmt(
        `${hist.head} where exists (select 1 from ${revive} v where v.order_id = ${hist.ref}.order_id)`,
      );
    }),
  ];
};

/**
 * Indexes of the mart itself: its key in storage order (unique), its timestamp for the archive's
 * range scans unless the key already leads with it, and its load batch (the data tests read the
 * rows a run wrote).
 */
export const martIndexes = (spec: MartSpec): readonly { columns: readonly string[]; unique: boolean }[] => [
  { columns: storageKey(spec), unique: true },
  ...(spec.key.includes(spec.ts) ? [] : [{ columns: [spec.ts], unique: false }]),
  { columns: ['_batch_id'], unique: false },
];

/** Moves the mart's consumption mark (in the same transaction as everything above). */
export const planMark = (
  d: Dialect,
  s: Schemas,
  martName: string,
  source: string,
  batch: number,
): Statement[] => {
  const t = d.table(s.meta, 'mart_state');
  return [
    stmt(`delete from ${t} where mart = $1 and source_table = $2`, [martName, source]),
    stmt(`insert into ${t} (mart, source_table, batch_id, updated_at) values ($1, $2, $3, ${d.now})`, [
      martName,
      source,
      batch,
    ]),
  ];
};
