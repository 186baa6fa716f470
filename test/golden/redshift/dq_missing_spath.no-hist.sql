create temporary table ot_dq_missing_spath as
select u."order_id", max(u."update_time") as "event_time"
  from "settlement_ods"."mart_uni_tracking_info" u
 where u."order_id" is not null
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_spath" s where s."order_id" = u."order_id")
 group by u."order_id";
