select max(m) as m from (select max("pathtime") as m from "settlement_ods"."mart_uni_tracking_spath" union all select max("pathtime") as m from ot_stage_mart_uts) x;
-- params: []

select min(m."pathtime") as m from ot_stage_mart_uts m
where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [-2147483648,1764448000]

delete from "settlement_ods"."mart_uni_tracking_spath" as t where (t."order_id", t."traceseq", t."pathtime") in (select "order_id", "traceseq", "pathtime" from ot_stage_mart_uts where ot_replaces);
-- params: [] counts: replaced

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath'
   and exists (select 1 from ot_stage_mart_uts s where s."order_id" = e."order_id" and s."traceseq" = e."traceseq" and s."pathtime" = e."pathtime");
-- params: [] counts: resolved:superseded

create table if not exists "settlement_ods"."hist_uni_tracking_spath_2025_h2" (
  "id" bigint,
  "order_id" varchar,
  "traceseq" integer,
  "pathtime" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
);
-- params: []

delete from "settlement_ods"."hist_uni_tracking_spath_2025_h2" as t where exists (select 1 from ot_stage_mart_uts m where m."order_id" = t."order_id" and m."traceseq" = t."traceseq" and m."pathtime" = t."pathtime" and m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_uni_tracking_spath_2025_h2" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select m."id", m."order_id", m."traceseq", m."pathtime", m."_batch_id", m."_loaded_at" from ot_stage_mart_uts m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime") order by m."pathtime";
-- params: [1751328000,1764448000] counts: archived:2025_h2

delete from ot_stage_mart_uts as m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [1751328000,1764448000]

insert into "settlement_ods"."mart_uni_tracking_spath" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from ot_stage_mart_uts order by "pathtime";
-- params: [] counts: inserted
