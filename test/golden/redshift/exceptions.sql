select "exception_id", "exception_type", "order_id", "source_table", "source_id", "traceseq", "pathtime", "event_time", "column_name", "detected_at", "resolved_at", "notes"
  from "settlement_ods"."order_tracking_exceptions"
  where "exception_type" = $1 and "order_id" = $2 and "resolved_at" is null
 order by "detected_at" desc nulls last, "exception_id" desc nulls last
 limit 50;
-- params: ["FUTURE_TIMESTAMP","o-1"]

select count(*) as n, count(*) - count("resolved_at") as "open"
  from "settlement_ods"."order_tracking_exceptions"
  where "exception_type" = $1 and "order_id" = $2 and "resolved_at" is null;
-- params: ["FUTURE_TIMESTAMP","o-1"]

update "settlement_ods"."order_tracking_exceptions"
   set "resolved_at" = sysdate, "notes" = substring(case when "notes" is null or "notes" = '' then cast($1 as varchar) else "notes" || '; ' || cast($1 as varchar) end, 1, 512)
 where "exception_id" in ($2, $3) and "resolved_at" is null;
-- params: ["fixed in the source",3,4]

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, event_time, detected_at, notes)
select f.order_id, 'FUTURE_TIMESTAMP', cast($4 as varchar), f.id, f.ts, sysdate, cast($5 as varchar)
from (select cast($1 as bigint) as id, cast($2 as varchar) as order_id, cast($3 as bigint) as ts) f
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'FUTURE_TIMESTAMP' and e.source_table = cast($4 as varchar)
                     and e.source_id = f.id and e.event_time = f.ts);
-- params: [9,"o-9","x","uni_tracking_info","update_time more than 1 day after the run clock; read when it is due"]

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, column_name, detected_at, notes)
select r.order_id, q.kind, cast($5 as varchar), q.id, r."traceseq", r."pathtime", r."pathtime", q.col, sysdate, q.notes
from (select cast($1 as bigint) as id, cast($2 as varchar) as col, cast($3 as varchar) as kind, cast($4 as varchar) as notes) q
  left join "settlement_public"."uni_tracking_spath_raw" r on r._batch_id = $6 and r.id = q.id
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = q.kind and e.source_table = cast($5 as varchar) and e.column_name = q.col
                     and (e.source_id = q.id or (e.source_id is null and q.id is null and e.notes = q.notes))
                     and (e.event_time = r."pathtime" or (e.event_time is null and r."pathtime" is null)));
-- params: [17,"order_id","BAD_VALUE","order_id: 300 bytes, more than varchar(256); stored as NULL in raw, the row kept out of the marts","uni_tracking_spath",42]
