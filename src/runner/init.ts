import { ExitCode, UserError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import { typeName, type Column } from '../engines/types.js';
import { compareColumns } from '../pipeline/drift.js';
import { planInit, planRecordStoredAsText, storedAsText, storedAsTextWarning } from '../pipeline/init.js';
import { saveStatusSnapshot } from '../pipeline/status/snapshot.js';
import { describeSourceTables } from '../pipeline/source-shape.js';
import { sourceTables, type SourceTableName } from '../pipeline/tables.js';
import { withPipeline } from './run-cycle.js';

/**
 * `order-tracking init` (SPEC §8): reads the source's shape, then creates every table under the
 * lease, in one transaction; idempotent. Returns the statements run. The demo and the bench call it
 * too.
 */
export const initWarehouse = async (settings: Settings): Promise<string[]> =>
  withPipeline(
    settings,
    async (source) => {
      const described = await describeSourceTables(source, settings);
      const columns = new Map<SourceTableName, readonly Column[]>();
      const errors: string[] = [];
      for (const spec of sourceTables) {
        const shape = described.get(spec.name) ?? [];
        if (typeof shape === 'string') errors.push(shape);
        else {
          errors.push(...compareColumns(spec, shape, null, new Set()).errors);
          columns.set(spec.name, shape);
        }
      }
      if (errors.length > 0) throw new UserError(`init: ${errors.join('; ')}`, ExitCode.drift);
      return columns;
    },
    async (warehouse, source, columns) => {
      const { raw, mart, meta } = settings.schemas;
      const existing = await warehouse.existingSchemas([raw, mart, meta]);
      const statements = planInit(warehouse.dialect, settings, columns, existing);
      const asText = storedAsText(warehouse.dialect, columns);
      const connection = await warehouse.connect();
      try {
        await connection.transaction(async () => {
          for (const statement of statements) await connection.execute(statement);
          for (const s of planRecordStoredAsText(warehouse.dialect, settings, asText))
            await connection.execute(s.sql, s.params);
        });
      } finally {
        await connection.release();
      }
      for (const { table, column } of asText)
        process.stderr.write(
          `warning: ${storedAsTextWarning} column=${table}.${column.name} type=${typeName(column.type)}\n`,
        );
      // The first snapshot, so `status` has something to show while the first run holds the file.
      await saveStatusSnapshot(
        warehouse,
        settings,
        { now: Math.floor(Date.now() / 1000), source },
        { warn: (m) => process.stderr.write(`warning: ${m}\n`) },
      );
      return statements;
    },
  );
