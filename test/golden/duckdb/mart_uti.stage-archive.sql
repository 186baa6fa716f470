select max(m) as m from (select max("update_time") as m from "settlement_ods"."mart_uni_tracking_info" union all select max("update_time") as m from ot_stage_mart_uti) x;
-- params: []

select min(m."update_time") as m from ot_stage_mart_uti m
where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [-2147483648,1764448000]

delete from "settlement_ods"."mart_uni_tracking_info" as t where (t."order_id") in (select "order_id" from ot_stage_mart_uti where ot_replaces);
-- params: [] counts: replaced

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info'
   and exists (select 1 from ot_stage_mart_uti s where s."order_id" = e."order_id");
-- params: [] counts: resolved:superseded

create table if not exists "settlement_ods"."hist_uni_tracking_info_2025_h2" (
  "id" bigint,
  "order_id" varchar,
  "status" varchar,
  "update_time" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
);
-- params: []

delete from "settlement_ods"."hist_uni_tracking_info_2025_h2" as t where exists (select 1 from ot_stage_mart_uti m where m."order_id" = t."order_id" and m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_uni_tracking_info_2025_h2" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at") select m."id", m."order_id", m."status", m."update_time", m."_batch_id", m."_loaded_at" from ot_stage_mart_uti m where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time") order by m."update_time";
-- params: [1751328000,1764448000] counts: archived:2025_h2

delete from ot_stage_mart_uti as m where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [1751328000,1764448000]

insert into "settlement_ods"."mart_uni_tracking_info" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at") select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at" from ot_stage_mart_uti order by "update_time";
-- params: [] counts: inserted
