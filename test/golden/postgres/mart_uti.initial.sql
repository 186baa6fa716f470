delete from "settlement_ods"."mart_uni_tracking_info" as t where (t."order_id") in (select "order_id" from ot_match_mart_uti);
-- params: [] counts: replaced

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info'
   and exists (select 1 from ot_stage_mart_uti s where s."order_id" = e."order_id");
-- params: [] counts: resolved:superseded

insert into "settlement_ods"."mart_uni_tracking_info" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at") select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at" from ot_stage_mart_uti;
-- params: [] counts: inserted

analyze "settlement_ods"."mart_uni_tracking_info";
-- params: [] only from: 200000 rows

create unique index if not exists "mart_uni_tracking_info_order_id_idx" on "settlement_ods"."mart_uni_tracking_info" ("order_id");
-- params: []

create index if not exists "mart_uni_tracking_info_update_time_idx" on "settlement_ods"."mart_uni_tracking_info" ("update_time");
-- params: []

create index if not exists "mart_uni_tracking_info__batch_id_idx" on "settlement_ods"."mart_uni_tracking_info" ("_batch_id");
-- params: []
