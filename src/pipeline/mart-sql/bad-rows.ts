import type { Dialect } from '../../engines/warehouse/warehouse.js';
import type { MartSpec } from '../marts.js';
import { exceptionsTable } from '../meta.js';
import { FUTURE_TOLERANCE_SECONDS } from '../periods.js';
import { stmt, type Statement } from '../statement.js';
import { heldTableName, rawTableName } from '../tables.js';
import type { MartFacts } from './facts.js';
import {
  badRowsTable,
  complete,
  deleteFrom,
  exceptionColumns,
  exceptionIdentity,
  exceptionKey,
  names,
} from './fragments.js';

/**
 * SPEC §5: one open exception per bad source row, never duplicated by re-extraction. A timestamp
 * before the floor (0, a negative or pre-2000 `pathTime`) would file its row in a hist table of a
 * period long gone, one table per half-year back to 1969; it stays out, like a future one.
 */
export const planBadRows = (d: Dialect, spec: MartSpec, f: MartFacts): Statement[] => {
  const raw = d.table(f.schemas.raw, rawTableName(spec.source));
  const e = exceptionsTable(f.schemas);
  const ledger = d.table(e.schema, e.name);
  const ts = d.quote(spec.ts);
  const extra = exceptionKey(spec)
    .map((k) => `, max(${d.quote(k)}) as ${d.quote(k)}`)
    .join('');
  const limit = f.now + FUTURE_TOLERANCE_SECONDS;
  const bad = badRowsTable(spec);
  // What makes a row bad, said once for the scan and for each kind: a key or time missing, or a
  // time after the limit or before the floor (`lim` and `flo` name the statement's parameters).
  const incomplete = `not (${complete(d, spec)})`;
  const outside = (lim: string, flo: string): string => `${ts} > ${lim} or ${ts} < ${flo}`;
  // The batches are read once for every kind below (a 24-hour backlog is millions of rows, its bad
  // ones a few thousand); each kind then reads this small table.
  const scan = [
    stmt(`drop table if exists ${bad}`),
    stmt(
      `create temporary table ${bad} as
select * from ${raw}
 where _batch_id > $1 and _batch_id <= $2
   and (order_id is null or ${incomplete} or ${outside('$3', '$4')})`,
      [f.fromBatch, f.toBatch, limit, f.floor],
    ),
  ];
  const missing = (type: 'NULL_ORDER_ID' | 'NULL_KEY', where: string, notes: string): Statement =>
    stmt(
      `insert into ${ledger} (${exceptionColumns})
select ${type === 'NULL_ORDER_ID' ? 'null' : 'b.order_id'}, '${type}', '${spec.source}', b.id, ${exceptionIdentity(d, spec, 'b')}, b.ts, ${d.now}, ${notes}
from (select id, max(order_id) as order_id, max(${ts}) as ts${extra} from ${bad}
       where ${where} group by id) b
where not exists (select 1 from ${ledger} e
                   where e.exception_type = '${type}' and e.source_table = '${spec.source}' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts))`,
      undefined,
      `exceptions:${type}`,
    );
  // A time after the limit or before the floor, in one pass over the batch: a row's time is what
  // makes it one of these, so the same row with a new time is a new case.
  const type = `case when ${ts} > $1 then 'FUTURE_TIMESTAMP' else 'TIMESTAMP_BEFORE_FLOOR' end`;
  const outOfRange = stmt(
    `insert into ${ledger} (${exceptionColumns})
select b.order_id, b.exception_type, '${spec.source}', b.id, ${exceptionIdentity(d, spec, 'b')}, b.ts, ${d.now},
       case b.exception_type when 'FUTURE_TIMESTAMP' then '${spec.ts} more than 1 day after the run clock; folded in once it is no longer in the future'
                             else '${spec.ts} before the timestampFloor setting; kept out of the marts' end
from (select id, exception_type, max(order_id) as order_id, max(${ts}) as ts${extra}
       from (select r.*, ${type} as exception_type from ${bad} r
              where order_id is not null and (${outside('$1', '$2')})) t
       group by id, exception_type) b
where not exists (select 1 from ${ledger} e
                   where e.exception_type = b.exception_type and e.source_table = '${spec.source}' and e.source_id = b.id
                     and e.event_time = b.ts)`,
    [limit, f.floor],
    'exceptions:FUTURE_TIMESTAMP|TIMESTAMP_BEFORE_FLOOR',
  );
  // The held rows' copy (`heldTableName`): each complete future row the batch landed goes in, and
  // those now due, folded in by the stage and resolved below, go out. A row landed again (the
  // windows' overlap) replaces its copy: one per row and time, its newest landing, as raw's newest
  // batch would win the stage. Made from the mart, so its columns are the mart's, type for type.
  const heldTable = d.table(f.schemas.raw, heldTableName(spec.source));
  const cols = names(d, f.columns);
  const future = (row: string): string => `${complete(d, spec, row)} and ${row}.${ts} > $1`;
  const copy = deleteFrom(d, heldTable, 'h');
  const hold = [
    ...(f.held === 'create'
      ? [
          stmt(`drop table if exists ${heldTable}`),
          stmt(
            `create table ${heldTable} as select ${cols} from ${d.table(f.schemas.mart, spec.table)} where 1 = 0`,
          ),
        ]
      : [
          stmt(
            `${copy.head} where exists (select 1 from ${bad} b where b.id = ${copy.ref}.id and b.${ts} = ${copy.ref}.${ts} and ${future('b')})`,
            [limit],
          ),
        ]),
    stmt(`insert into ${heldTable} (${cols})\nselect ${cols} from ${bad} b where ${future('b')}`, [limit]),
  ];
  return [
    ...scan,
    ...hold,
    missing('NULL_ORDER_ID', 'order_id is null', `'order_id is NULL in the source row'`),
    missing(
      'NULL_KEY',
      `order_id is not null and ${incomplete}`,
      `'a key or timestamp column (${[...new Set([...spec.key, spec.ts])].join(', ')}) is NULL in the source row'`,
    ),
    outOfRange,
    stmt(
      `update ${ledger} set resolved_at = ${d.now}
 where exception_type = 'FUTURE_TIMESTAMP' and resolved_at is null and source_table = '${spec.source}' and event_time <= $1`,
      [limit],
      'resolved:FUTURE_TIMESTAMP',
    ),
    ...(f.held === 'due' ? [stmt(`delete from ${heldTable} where ${ts} <= $1`, [limit])] : []),
  ];
};
