delete from "settlement_ods"."mart_uni_tracking_spath" as t where (t."order_id", t."traceseq", t."pathtime") in (select "order_id", "traceseq", "pathtime" from ot_match_mart_uts);
-- params: [] counts: replaced

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath'
   and exists (select 1 from ot_stage_mart_uts s where s."order_id" = e."order_id" and s."traceseq" = e."traceseq" and s."pathtime" = e."pathtime");
-- params: [] counts: resolved:superseded

insert into "settlement_ods"."mart_uni_tracking_spath" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from ot_stage_mart_uts;
-- params: [] counts: inserted

analyze "settlement_ods"."mart_uni_tracking_spath";
-- params: [] only from: 200000 rows

create unique index if not exists "mart_uni_tracking_spath_pathtime_order_id_traceseq_idx" on "settlement_ods"."mart_uni_tracking_spath" ("pathtime", "order_id", "traceseq");
-- params: []

create index if not exists "mart_uni_tracking_spath__batch_id_idx" on "settlement_ods"."mart_uni_tracking_spath" ("_batch_id");
-- params: []
