create temporary table ot_dq_reactivated_missing_ecs as
select u."order_id", max(u."update_time") as "event_time"
  from "settlement_ods"."mart_uni_tracking_info" u
 where u."order_id" is not null
   and not exists (select 1 from "settlement_ods"."mart_ecs_order_info" e where e."order_id" = u."order_id")
 group by u."order_id";

analyze ot_dq_reactivated_missing_ecs;
-- only when the statement before changed 200000 rows or more

insert into "order_tracking_meta"."dq_results" ("run_id", "check_name", "failing", "sample", "checked_at")
select cast($1 as bigint), cast($2 as varchar),
       (select count(*) from ot_dq_reactivated_missing_ecs),
       (select listagg(w."order_id", ',') within group (order by w."order_id")
          from (select "order_id" from ot_dq_reactivated_missing_ecs order by "order_id" limit 10) w),
       sysdate;
-- params: [7,"dq_reactivated_missing_ecs"]

insert into "settlement_ods"."order_tracking_exceptions" ("order_id", "exception_type", "source_table", "event_time", "detected_at", "notes")
select w."order_id", cast($1 as varchar), cast($2 as varchar), w."event_time", sysdate, cast($3 as varchar)
  from ot_dq_reactivated_missing_ecs w
 where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" x
                    where x."exception_type" = cast($1 as varchar) and x."order_id" = w."order_id"
                      and x."resolved_at" is null);
-- params: ["DQ_REACTIVATED_MISSING_ECS","mart_uni_tracking_info","in mart_uni_tracking_info but no mart_ecs_order_info row; found by monitor run 7"]
-- counts: opened

update "settlement_ods"."order_tracking_exceptions" as x
   set "resolved_at" = sysdate,
       "notes" = substring(coalesce(nullif(x."notes", '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x."exception_type" = cast($1 as varchar) and x."resolved_at" is null
   and not exists (select 1 from ot_dq_reactivated_missing_ecs w where w."order_id" = x."order_id")
   and exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = x."order_id");
-- params: ["DQ_REACTIVATED_MISSING_ECS","cleared: mart_ecs_order_info row found by monitor run 7"]
-- counts: resolved

update "settlement_ods"."order_tracking_exceptions" as x
   set "resolved_at" = sysdate,
       "notes" = substring(coalesce(nullif(x."notes", '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x."exception_type" = cast($1 as varchar) and x."resolved_at" is null
   and not exists (select 1 from ot_dq_reactivated_missing_ecs w where w."order_id" = x."order_id")
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = x."order_id");
-- params: ["DQ_REACTIVATED_MISSING_ECS","cleared: order no longer in mart_uni_tracking_info at monitor run 7"]
-- counts: resolved

drop table if exists ot_dq_reactivated_missing_ecs;

select "failing" as failing, "sample" as sample
  from "order_tracking_meta"."dq_results"
 where "run_id" = $1 and "check_name" = $2;
-- params: [7,"dq_reactivated_missing_ecs"]
