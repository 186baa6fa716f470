create temporary table ot_dq_missing_spath as
select u."order_id", max(u."update_time") as "event_time"
  from "settlement_ods"."mart_uni_tracking_info" u
 where u."order_id" is not null
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_spath" s where s."order_id" = u."order_id")
   and not exists (select 1 from "settlement_ods"."hist_uni_tracking_spath_2025_h1" s where s."order_id" = u."order_id")
   and not exists (select 1 from "settlement_ods"."hist_uni_tracking_spath_2025_h2" s where s."order_id" = u."order_id")
 group by u."order_id";

analyze ot_dq_missing_spath;
-- only when the statement before changed 200000 rows or more

insert into "order_tracking_meta"."dq_results" ("run_id", "check_name", "failing", "sample", "checked_at")
select cast($1 as bigint), cast($2 as varchar),
       (select count(*) from ot_dq_missing_spath),
       (select listagg(w."order_id", ',') within group (order by w."order_id")
          from (select "order_id" from ot_dq_missing_spath order by "order_id" limit 10) w),
       sysdate;
-- params: [7,"dq_missing_spath"]

insert into "settlement_ods"."order_tracking_exceptions" ("order_id", "exception_type", "source_table", "event_time", "detected_at", "notes")
select w."order_id", cast($1 as varchar), cast($2 as varchar), w."event_time", sysdate, cast($3 as varchar)
  from ot_dq_missing_spath w
 where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" x
                    where x."exception_type" = cast($1 as varchar) and x."order_id" = w."order_id"
                      and x."resolved_at" is null);
-- params: ["DQ_MISSING_SPATH","mart_uni_tracking_info","in mart_uni_tracking_info but no scan event in mart_uni_tracking_spath or any hist_uni_tracking_spath table; found by monitor run 7"]
-- counts: opened

update "settlement_ods"."order_tracking_exceptions" as x
   set "resolved_at" = sysdate,
       "notes" = substring(coalesce(nullif(x."notes", '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x."exception_type" = cast($1 as varchar) and x."resolved_at" is null
   and not exists (select 1 from ot_dq_missing_spath w where w."order_id" = x."order_id")
   and exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = x."order_id");
-- params: ["DQ_MISSING_SPATH","cleared: scan events found by monitor run 7"]
-- counts: resolved

update "settlement_ods"."order_tracking_exceptions" as x
   set "resolved_at" = sysdate,
       "notes" = substring(coalesce(nullif(x."notes", '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x."exception_type" = cast($1 as varchar) and x."resolved_at" is null
   and not exists (select 1 from ot_dq_missing_spath w where w."order_id" = x."order_id")
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = x."order_id");
-- params: ["DQ_MISSING_SPATH","cleared: order no longer in mart_uni_tracking_info at monitor run 7"]
-- counts: resolved

drop table if exists ot_dq_missing_spath;

select "failing" as failing, "sample" as sample
  from "order_tracking_meta"."dq_results"
 where "run_id" = $1 and "check_name" = $2;
-- params: [7,"dq_missing_spath"]
