select run_id, kind, state, started_at, ended_at, error, summary
  from "order_tracking_meta"."runs"
 order by run_id desc
 limit 10;

select "schema" as table_schema, "table" as table_name, estimated_visible_rows as n
  from svv_table_info
 where ("schema" = $1 and "table" = $2) or ("schema" = $3 and "table" = $4);
-- params: ["settlement_ods","mart_uni_tracking_info","settlement_public","uni_tracking_info_raw"]

select 0 as i, count(*) as n from "settlement_ods"."mart_uni_tracking_info"
union all
select 1 as i, count(*) as n from "settlement_public"."uni_tracking_info_raw";
