import { ExitCode, UserError } from '../../config/errors.js';
import { typeName, type Column } from '../../engines/types.js';
import { storedType } from '../../engines/warehouse/warehouse.js';
import type { TaskOutcome } from '../../runner/context.js';
import type { Task } from '../../runner/task.js';
import { addColumn, alterColumnType } from '../ddl.js';
import { compareColumns } from '../drift.js';
import { listHistTables } from '../hist.js';
import { storedAsTextWarning } from '../init.js';
import { marts } from '../marts.js';
import { metaTables } from '../meta.js';
import { describeSourceTables } from '../source-shape.js';
import { loadColumns, rawTableName, sourceTables, type SourceTableName } from '../tables.js';

const loadColumnNames = new Set(loadColumns.map((c) => c.name));

/**
 * SPEC §3 check_drift: every problem in every table is collected first and reported at once, so a
 * dropped or retyped required column stops the run before anything is written; then new source
 * columns are added to raw (schema evolution) and recorded.
 */
export const checkDrift: Task = {
  name: 'check_drift',
  after: [],
  timeoutMinutes: 60,
  async run(ctx, scope): Promise<TaskOutcome> {
    const { warehouse, source, settings } = ctx;
    const d = warehouse.dialect;
    const described = await describeSourceTables(source, settings);
    const columns = new Map<SourceTableName, readonly Column[]>();
    const errors: string[] = [];
    const dropped: string[] = [];
    const changes: { table: SourceTableName; column: Column; change: 'added' | 'widened' }[] = [];
    for (const spec of sourceTables) {
      const sourceColumns = described.get(spec.name) ?? [];
      if (typeof sourceColumns === 'string') {
        errors.push(sourceColumns);
        continue;
      }
      columns.set(spec.name, sourceColumns);
      const cursor = settings.cursors[spec.name].column.toLowerCase();
      if (
        !sourceColumns.some(
          (c) => c.name === cursor && (c.type.kind === 'integer' || c.type.kind === 'bigint'),
        )
      )
        errors.push(
          `cursor column ${spec.name}.${settings.cursors[spec.name].column} is not an integer column of the source`,
        );
      const raw = rawTableName(spec.name);
      const rawColumns = await warehouse.describeTable(settings.schemas.raw, raw);
      if (!rawColumns) {
        errors.push(
          `warehouse table ${settings.schemas.raw}.${raw} does not exist: run \`order-tracking init\` first`,
        );
        continue;
      }
      const drift = compareColumns(spec, sourceColumns, rawColumns, loadColumnNames, (t) => storedType(d, t));
      errors.push(...drift.errors);
      for (const c of drift.added) changes.push({ table: spec.name, column: c, change: 'added' });
      for (const c of drift.widened) changes.push({ table: spec.name, column: c, change: 'widened' });
      for (const name of drift.dropped) dropped.push(`${spec.name}.${name}`);
    }
    if (errors.length > 0) throw new UserError(`check_drift: ${errors.join('; ')}`, ExitCode.drift);
    for (const column of dropped)
      ctx.log.warn({ column }, 'column gone from the source; raw keeps it and loads NULL');

    if (changes.length > 0) {
      const log = metaTables(settings.schemas).schemaChanges;
      await scope.withConnection((connection) =>
        connection.transaction(async () => {
          for (const change of changes) {
            // Schema evolution reaches every table holding this source's rows: raw, mart, hist.
            const spec = marts.find((m) => m.source === change.table);
            const targets: [string, string][] = [[settings.schemas.raw, rawTableName(change.table)]];
            if (spec) {
              targets.push([settings.schemas.mart, spec.table]);
              for (const h of await listHistTables(connection, settings.schemas.mart, spec))
                targets.push([settings.schemas.mart, h]);
            }
            for (const [schema, table] of targets)
              await connection.execute(
                change.change === 'added'
                  ? addColumn(d, schema, table, change.column)
                  : alterColumnType(d, schema, table, change.column),
              );
            await connection.execute(
              `insert into ${d.table(log.schema, log.name)} (run_id, table_name, column_name, change, column_type, detected_at)
               values ($1, $2, $3, $4, $5, ${d.now})`,
              [ctx.runId, change.table, change.column.name, change.change, d.columnType(change.column.type)],
            );
            if (storedType(d, change.column.type) !== change.column.type) {
              ctx.log.warn(
                { column: `${change.table}.${change.column.name}`, type: typeName(change.column.type) },
                storedAsTextWarning,
              );
              await connection.execute(
                `insert into ${d.table(log.schema, log.name)} (run_id, table_name, column_name, change, column_type, detected_at)
                 values ($1, $2, $3, 'stored_as_text', $4, ${d.now})`,
                [ctx.runId, change.table, change.column.name, typeName(change.column.type)],
              );
            }
          }
        }),
      );
    }
    ctx.state.columns = columns;
    return {
      note: changes.length
        ? changes.map((c) => `${c.change} ${c.table}.${c.column.name}`).join(', ')
        : undefined,
    };
  },
};
