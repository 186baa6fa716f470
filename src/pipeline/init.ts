import type { Settings } from '../config/settings.js';
import type { Column } from '../engines/types.js';
import type { Dialect } from '../engines/warehouse/warehouse.js';
import { addColumnIfMissing, createSchema, createSequence, createTable } from './ddl.js';
import { marts } from './marts.js';
import { exceptionIdSequence, exceptionsTable, metaTables } from './meta.js';
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
): string[] => {
  const { schemas } = settings;
  const statements = [...new Set([schemas.raw, schemas.mart, schemas.meta])].map((s) => createSchema(d, s));
  for (const spec of sourceTables) {
    const columns = sourceColumns.get(spec.name);
    if (!columns) throw new Error(`init: no columns for source table ${spec.name}`);
    statements.push(
      createTable(d, {
        schema: schemas.raw,
        name: rawTableName(spec.name),
        columns: [...columns, ...loadColumns],
      }),
    );
  }
  for (const spec of marts) {
    const columns = sourceColumns.get(spec.source) ?? [];
    statements.push(
      createTable(d, { schema: schemas.mart, name: spec.table, columns: [...columns, ...loadColumns] }),
    );
  }
  statements.push(createSequence(d, schemas.meta, exceptionIdSequence));
  statements.push(createTable(d, exceptionsTable(schemas)));
  // Archive and stage look up exceptions per order, bad-row dedup per source row; the ledger only grows.
  for (const columns of [['order_id'], ['source_table', 'exception_type', 'source_id']]) {
    const sql = d.createIndex(schemas.mart, exceptionsTable(schemas).name, columns);
    if (sql) statements.push(sql);
  }
  for (const table of Object.values(metaTables(schemas))) statements.push(createTable(d, table));
  // A warehouse an older release created lacks the columns added since.
  for (const table of [exceptionsTable(schemas), ...Object.values(metaTables(schemas))])
    for (const column of table.added ?? []) statements.push(addColumnIfMissing(d, table, column));
  return statements;
};
