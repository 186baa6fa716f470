select b.batch_id, b.landed_count
  from "order_tracking_meta"."batches" b
 where b.table_name = $1 and b.state = 'validated' and b.created_at < cast($2 as timestamp)
   and b.batch_id <= coalesce((select batch_id from "order_tracking_meta"."mart_state" where mart = $3 and source_table = $1), 0)
   and b.batch_id <= coalesce((select min(batch_id) from "order_tracking_meta"."mart_state" where source_table = $1 and mart <> 'raw_dedupe'), 0)
   and exists (select 1 from "settlement_public"."uni_tracking_spath_raw" r where r._batch_id = b.batch_id)
 order by b.batch_id;
-- params: ["uni_tracking_spath","2026-05-21 00:00:00","mart_uts"]

delete from "settlement_public"."uni_tracking_spath_raw" where "uni_tracking_spath_raw"._batch_id = $1 and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.source_table = 'uni_tracking_spath' and e.source_id = "uni_tracking_spath_raw".id and e.resolved_at is null);
-- params: [40]
-- counts: deleted

delete from "settlement_public"."uni_tracking_spath_raw" where "uni_tracking_spath_raw"._batch_id = $1 and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.source_table = 'uni_tracking_spath' and e.source_id = "uni_tracking_spath_raw".id and e.resolved_at is null);
-- params: [40]
-- counts: deleted

delete from "settlement_public"."uni_tracking_spath_raw"
 where "uni_tracking_spath_raw"._batch_id = $1 and "uni_tracking_spath_raw"."id" > $2
   and exists (select 1 from "settlement_public"."uni_tracking_spath_raw" o
                where o._batch_id in (39, 40) and o."id" > $2
                  and o.id = "uni_tracking_spath_raw".id and ((o."order_id" = "uni_tracking_spath_raw"."order_id" or (o."order_id" is null and "uni_tracking_spath_raw"."order_id" is null)) and (o."traceseq" = "uni_tracking_spath_raw"."traceseq" or (o."traceseq" is null and "uni_tracking_spath_raw"."traceseq" is null)) and (o."pathtime" = "uni_tracking_spath_raw"."pathtime" or (o."pathtime" is null and "uni_tracking_spath_raw"."pathtime" is null))));
-- params: [41,1000]
-- counts: repeats

select x.t - (x.t % 86400) as day, count(*) as n, sum(x.t) as s
  from (select h."order_id", h."traceseq", h."pathtime" as t from "settlement_ods"."mart_uni_tracking_spath" h where h."pathtime" >= $1 and h."pathtime" < $2
        union
        select "order_id", "traceseq", event_time as t from "settlement_ods"."order_tracking_exceptions"
    where source_table = $3 and resolved_at is null and exception_type in ('BAD_VALUE', 'FUTURE_TIMESTAMP', 'TIMESTAMP_BEFORE_FLOOR')
      and event_time >= $1 and event_time < $2 and "order_id" is not null and "traceseq" is not null and event_time is not null) x
 group by x.t - (x.t % 86400);
-- params: [1779395200,1780000000,"uni_tracking_spath"]

select event_time - (event_time % 86400) as day, count(distinct source_id) as n
  from "settlement_ods"."order_tracking_exceptions"
 where source_table = $3 and resolved_at is null and exception_type in ('NULL_ORDER_ID', 'NULL_KEY')
   and event_time >= $1 and event_time < $2
 group by event_time - (event_time % 86400);
-- params: [1779395200,1780000000,"uni_tracking_spath"]
