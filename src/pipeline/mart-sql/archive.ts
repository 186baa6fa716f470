import type { Schemas } from '../../config/settings.js';
import type { Dialect } from '../../engines/warehouse/warehouse.js';
import { createTable } from '../ddl.js';
import { histTableName, mart as martSpec, type MartSpec } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { stmt, type Statement } from '../statement.js';
import type { ArchiveFacts } from './facts.js';
import {
  aged,
  deleteFrom,
  exceptionColumns,
  exceptionIdentity,
  keyMatch,
  names,
  stageTable,
  timeOrder,
} from './fragments.js';

/**
 * Archive (SPEC §4): per period holding aged rows, create its hist table on first need, replace
 * any copy of the rows there (idempotent on retry), move them; a frozen period instead opens one
 * gap exception per row, which keeps the row in the mart. `from` is the mart, or the stage for the
 * batch's rows that are aged already (`archiveStageFirst`; frozen periods are left out there).
 */
export const planArchive = (
  d: Dialect,
  spec: MartSpec,
  f: ArchiveFacts,
  from: string = d.table(f.schemas.mart, spec.table),
): Statement[] => {
  const cols = names(d, f.columns);
  const e = exceptionsTable(f.schemas);
  const statements: Statement[] = [];
  for (const period of f.periods) {
    const bounds = [period.start, Math.min(period.end, f.cutoff)];
    if (f.frozen.has(period.name)) {
      statements.push(
        stmt(
          `insert into ${d.table(e.schema, e.name)} (${exceptionColumns})
select m.order_id, '${spec.gapException}', '${spec.source}', m.id, ${exceptionIdentity(d, spec, 'm')}, m.${d.quote(spec.ts)}, ${d.now},
       'aged out but period ${period.name} is frozen by configuration; kept in ${spec.table}'
from ${from} m
where ${aged(d, spec, f.schemas, 'm')}`,
          bounds,
          `gaps:${period.name}`,
        ),
      );
      continue;
    }
    const histName = histTableName(spec, period.name);
    const hist = d.table(f.schemas.mart, histName);
    // Only on first need: `create index if not exists` on an existing table still takes a lock
    // that waits for a running VACUUM on PostgreSQL.
    if (!f.existing.includes(histName)) {
      statements.push(
        stmt(
          createTable(d, {
            schema: f.schemas.mart,
            name: histName,
            columns: f.columns,
            ...(f.histLayout ? { layout: f.histLayout } : {}),
          }),
        ),
      );
      for (const index of histIndexes(spec)) {
        const sql = d.createIndex(f.schemas.mart, histName, index);
        if (sql) statements.push(stmt(sql));
      }
    }
    const replaced = deleteFrom(d, hist, 't');
    const moved = deleteFrom(d, from, 'm');
    statements.push(
      stmt(
        `${replaced.head} where exists (select 1 from ${from} m where ${keyMatch(d, spec, 'm', replaced.ref)} and ${aged(d, spec, f.schemas, 'm')})`,
        bounds,
      ),
      stmt(
        `insert into ${hist} (${cols}) select ${names(d, f.columns, 'm')} from ${from} m where ${aged(d, spec, f.schemas, 'm')}${timeOrder(d, spec, 'm')}`,
        bounds,
        `archived:${period.name}`,
      ),
      stmt(`${moved.head} where ${aged(d, spec, f.schemas, moved.ref)}`, bounds),
    );
  }
  return statements;
};

/** The oldest aged row's timestamp in the mart (or `from`): which periods the archive has to visit. */
export const planOldestAged = (
  d: Dialect,
  spec: MartSpec,
  s: Schemas,
  cutoff: number,
  from: string = d.table(s.mart, spec.table),
): Statement =>
  stmt(
    `select min(m.${d.quote(spec.ts)}) as m from ${from} m\nwhere ${aged(d, spec, s, 'm')}`,
    // The lower bound is the smallest INT: source timestamps are INT epoch seconds (SPEC §2).
    [-2_147_483_648, cutoff],
  );

/**
 * Whether this mart's apply archives the stage's aged rows first (`archiveStageFirst`): only a
 * time-retention mart knows the cutoff its apply will leave before applying (`planApplyMaxTs`).
 */
export const archivesStageFirst = (d: Dialect, spec: MartSpec): boolean =>
  d.capabilities.archiveStageFirst && spec.retention === 'time';

/**
 * The newest timestamp of the mart and its stage together: the retention cutoff this apply will
 * leave, for a time-retention mart (a replaced row's new version is never older).
 */
export const planApplyMaxTs = (d: Dialect, spec: MartSpec, s: Schemas): Statement => {
  const ts = d.quote(spec.ts);
  return stmt(
    `select max(m) as m from (select max(${ts}) as m from ${d.table(s.mart, spec.table)} union all select max(${ts}) as m from ${stageTable(spec)}) x`,
  );
};

/** Hist look-ups are by order (reactivation) and, for scans, by the whole key. */
export const histIndexes = (spec: MartSpec): readonly (readonly string[])[] => [spec.key];

/**
 * The newest timestamp of the mart whose cutoff ages this one's rows (SPEC §4): its own for time
 * retention, mart_uti's for mart_ecs. Future rows never reach a mart, and the clock caps it besides.
 */
export const planNewestTs = (d: Dialect, spec: MartSpec, s: Schemas): Statement => {
  const basis = spec.retention === 'order' ? martSpec('mart_uti') : spec;
  return stmt(`select max(${d.quote(basis.ts)}) as m from ${d.table(s.mart, basis.table)}`);
};
