delete from "settlement_ods"."mart_ecs_order_info" as t where (t."order_id") in (select "order_id" from ot_stage_mart_ecs where ot_replaces);
-- params: [] counts: replaced

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info'
   and exists (select 1 from ot_stage_mart_ecs s where s."order_id" = e."order_id");
-- params: [] counts: resolved:superseded

insert into "settlement_ods"."mart_ecs_order_info" ("id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at") select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at" from ot_stage_mart_ecs order by "add_time";
-- params: [] counts: inserted
