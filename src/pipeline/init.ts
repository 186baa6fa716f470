import type { Settings } from '../config/settings.js';
import type { Column } from '../engines/types.js';
import type { Dialect } from '../engines/warehouse/warehouse.js';
import { createSchema, createTable } from './ddl.js';
import { exceptionsTable, metaTables } from './meta.js';
import { loadColumns, rawTableName, sourceTables, type SourceTableName } from './tables.js';

/**
 * The DDL of `order-tracking init` (SPEC §8): schemas, raw tables shaped like the source plus the
 * load metadata, the exceptions ledger and the metadata tables. Every statement is `if not exists`,
 * so running it twice changes nothing.
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
  statements.push(createTable(d, exceptionsTable(schemas)));
  for (const table of Object.values(metaTables(schemas))) statements.push(createTable(d, table));
  return statements;
};
