/**
 * Where Redshift puts each table's rows (SPEC §2): marts, hist tables and the exceptions ledger
 * are distributed on `order_id`, so the marts' three-way join and every look-up by order stay on
 * one slice, and sorted so that zone maps skip old blocks; raw tables are spread evenly and sorted
 * by load batch, which is how every reader of raw selects. Each is a default the config file's
 * `redshift.tables` replaces per table. PostgreSQL and DuckDB ignore layouts.
 */
import { ConfigError } from '../config/errors.js';
import type { Column } from '../engines/types.js';
import type { TableLayout } from '../engines/warehouse/warehouse.js';
import { marts } from './marts.js';
import { rawTableName, sourceTables } from './tables.js';

/** The ledger's layout: its readers ask by type and age (status, housekeeping) or by order. */
const exceptionsLayout: TableLayout = { distKey: 'order_id', sortKey: ['exception_type', 'detected_at'] };

/**
 * The default layout of every table that has one, by name; a mart's hist tables share one entry,
 * `hist_<source table>` (every period's table gets it).
 */
export const defaultLayouts: Readonly<Record<string, TableLayout>> = Object.fromEntries([
  ...sourceTables.map((t) => [rawTableName(t.name), { distStyle: 'even', sortKey: ['_batch_id'] }]),
  ...marts.flatMap((m) => {
    const layout: TableLayout = { distKey: 'order_id', sortKey: m.sortKey };
    return [
      [m.table, layout],
      [`hist_${m.source}`, layout],
    ];
  }),
  ['order_tracking_exceptions', exceptionsLayout],
]);

/** The layout of table `name` (a hist table by its family, `hist_uni_tracking_info`). */
export const layoutOf = (
  overrides: Readonly<Record<string, TableLayout>>,
  name: string,
): TableLayout | undefined => overrides[name] ?? defaultLayouts[name];

/**
 * Refuses a layout naming a column its table lacks, before any DDL: Redshift would refuse the
 * CREATE TABLE halfway through `init`.
 */
export const checkLayout = (
  name: string,
  layout: TableLayout | undefined,
  columns: readonly Column[],
): void => {
  if (!layout) return;
  const have = new Set(columns.map((c) => c.name));
  for (const column of [...(layout.distKey ? [layout.distKey] : []), ...(layout.sortKey ?? [])])
    if (!have.has(column))
      throw new ConfigError(
        `redshift.tables.${name} names column ${column}, which ${name} does not have (it has ${[...have].join(', ')})`,
      );
};
