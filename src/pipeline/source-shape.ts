import type { Settings } from '../config/settings.js';
import type { Source } from '../engines/source/source.js';
import type { Column } from '../engines/types.js';
import { narrowRequired, sourceTables, type SourceTableName } from './tables.js';

/**
 * Each source table's columns as the pipeline keeps them (required integer columns narrowed to
 * bigint, `narrowRequired`), or the line saying the source lacks it: what `init` and check_drift
 * both start from.
 */
export const describeSourceTables = async (
  source: Source,
  settings: Settings,
): Promise<Map<SourceTableName, readonly Column[] | string>> => {
  const columns = new Map<SourceTableName, readonly Column[] | string>();
  for (const spec of sourceTables) {
    const described = await source.describeTable(spec.name);
    columns.set(
      spec.name,
      described
        ? narrowRequired(spec, described, settings.cursors[spec.name].column)
        : `source table ${spec.name} does not exist in ${source.displayUrl}`,
    );
  }
  return columns;
};
