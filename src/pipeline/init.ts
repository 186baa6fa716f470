import type { Settings } from '../config/settings.js';
import { typeName, type Column } from '../engines/types.js';
import { storedType, type Dialect } from '../engines/warehouse/warehouse.js';
import { addColumnIfMissing, createSchema, createSequence, createTable, type TableSpec } from './ddl.js';
import { checkLayout, layoutOf } from './layouts.js';
import { marts } from './marts.js';
import { exceptionIdSequence, exceptionsTable, metaTables } from './meta.js';
import { stmt, type Statement } from './statement.js';
import { loadColumns, rawTableName, sourceTables, type SourceTableName } from './tables.js';

/**
 * The DDL of `order-tracking init` (SPEC §8): schemas, raw and mart tables shaped like the source
 * plus the load metadata, the exceptions ledger and the metadata tables. Hist tables are created
 * by the archive when a period first needs one. Every statement is `if not exists`,
 * so running it twice changes nothing. Raw and mart tables get their indexes from the first load
 * into them, once its rows are in (extract, the mart apply): cheaper than keeping them up row by
 * row through the initial load.
 */
export const planInit = (
  d: Dialect,
  settings: Settings,
  sourceColumns: ReadonlyMap<SourceTableName, readonly Column[]>,
  existingSchemas: readonly string[] = [],
): string[] => {
  const { schemas } = settings;
  // A schema that exists is not created again: `create schema if not exists` still needs CREATE on
  // the database (PostgreSQL checks it first), which a role given pre-created schemas lacks.
  const statements = [...new Set([schemas.raw, schemas.mart, schemas.meta])]
    .filter((s) => !existingSchemas.includes(s))
    .map((s) => createSchema(d, s));
  const laidOut = (t: TableSpec, layoutName = t.name): string => {
    const layout = layoutOf(settings.redshift.tables, layoutName);
    checkLayout(layoutName, layout, t.columns);
    return createTable(d, { ...t, ...(layout ? { layout } : {}) });
  };
  for (const spec of sourceTables) {
    const columns = sourceColumns.get(spec.name);
    if (!columns) throw new Error(`init: no columns for source table ${spec.name}`);
    statements.push(
      laidOut({ schema: schemas.raw, name: rawTableName(spec.name), columns: [...columns, ...loadColumns] }),
    );
  }
  for (const spec of marts) {
    const columns = [...(sourceColumns.get(spec.source) ?? []), ...loadColumns];
    statements.push(laidOut({ schema: schemas.mart, name: spec.table, columns }));
    // Checked now, though hist tables are created when a period first needs one.
    checkLayout(`hist_${spec.source}`, layoutOf(settings.redshift.tables, `hist_${spec.source}`), columns);
  }
  if (d.capabilities.sequences) statements.push(createSequence(d, schemas.meta, exceptionIdSequence));
  statements.push(laidOut(exceptionsTable(schemas)));
  // Archive and stage look up exceptions per order, bad-row dedup per source row; the ledger only grows.
  for (const columns of [['order_id'], ['source_table', 'exception_type', 'source_id']]) {
    const sql = d.createIndex(schemas.mart, exceptionsTable(schemas).name, columns);
    if (sql) statements.push(sql);
  }
  for (const table of Object.values(metaTables(schemas))) statements.push(createTable(d, table));
  // A warehouse an older release created lacks the columns added since.
  if (d.capabilities.addColumnIfNotExists)
    for (const table of [exceptionsTable(schemas), ...Object.values(metaTables(schemas))])
      for (const column of table.added ?? []) statements.push(addColumnIfMissing(d, table, column));
  return statements;
};

/** Said (by `init`, `check_drift`) of a source decimal wider than the warehouse's (`storedType`). */
export const storedAsTextWarning = 'decimal wider than the warehouse holds: stored as text, every digit kept';

/** A source column the warehouse keeps in another type than the source's (`storedType`). */
export interface StoredAsText {
  readonly table: SourceTableName;
  readonly column: Column;
}

/** The source columns this warehouse stores as text: decimals wider than it holds. */
export const storedAsText = (
  d: Dialect,
  sourceColumns: ReadonlyMap<SourceTableName, readonly Column[]>,
): StoredAsText[] =>
  [...sourceColumns].flatMap(([table, columns]) =>
    columns
      .filter((column) => storedType(d, column.type) !== column.type)
      .map((column) => ({ table, column })),
  );

/**
 * Records each column stored as text in `schema_changes` (`stored_as_text`, with the source's
 * type), once however often `init` runs. After `planInit`, in its transaction.
 */
export const planRecordStoredAsText = (
  d: Dialect,
  settings: Settings,
  columns: readonly StoredAsText[],
): Statement[] => {
  const log = metaTables(settings.schemas).schemaChanges;
  const t = d.table(log.schema, log.name);
  return columns.map(({ table, column }) =>
    stmt(
      `insert into ${t} (run_id, table_name, column_name, change, column_type, detected_at)
select cast(null as bigint), cast($1 as varchar), cast($2 as varchar), 'stored_as_text', cast($3 as varchar), ${d.now}
 where not exists (select 1 from ${t} where table_name = $1 and column_name = $2 and change = 'stored_as_text')`,
      [table, column.name, typeName(column.type)],
    ),
  );
};
