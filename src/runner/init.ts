import { ExitCode, UserError } from '../config/errors.js';
import type { Settings } from '../config/settings.js';
import type { Column } from '../engines/types.js';
import { compareColumns } from '../pipeline/drift.js';
import { planInit } from '../pipeline/init.js';
import { saveStatusSnapshot } from '../pipeline/status/snapshot.js';
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
      const columns = new Map<SourceTableName, readonly Column[]>();
      const errors: string[] = [];
      for (const spec of sourceTables) {
        const described = await source.describeTable(spec.name);
        if (!described) {
          errors.push(`source table ${spec.name} does not exist in ${source.displayUrl}`);
          continue;
        }
        errors.push(...compareColumns(spec, described, null, new Set()).errors);
        columns.set(spec.name, described);
      }
      if (errors.length > 0) throw new UserError(`init: ${errors.join('; ')}`, ExitCode.drift);
      return columns;
    },
    async (warehouse, source, columns) => {
      const statements = planInit(warehouse.dialect, settings, columns);
      const connection = await warehouse.connect();
      try {
        await connection.transaction(async () => {
          for (const statement of statements) await connection.execute(statement);
        });
      } finally {
        await connection.release();
      }
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
