create temporary table ot_dq_uti_uts_alignment as
select s."order_id", max(s."pathtime") as "event_time"
  from "settlement_ods"."mart_uni_tracking_spath" s
 where s."pathtime" > $1 and s."pathtime" <= $2 and s."order_id" is not null
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = s."order_id")
 group by s."order_id";
-- params: [1779913600,1780086400]

analyze ot_dq_uti_uts_alignment;
-- only when the statement before changed 200000 rows or more

insert into "order_tracking_meta"."dq_results" ("run_id", "check_name", "failing", "sample", "checked_at")
select cast($1 as bigint), cast($2 as varchar),
       (select count(*) from ot_dq_uti_uts_alignment),
       (select string_agg(w."order_id", ',' order by w."order_id")
          from (select "order_id" from ot_dq_uti_uts_alignment order by "order_id" limit 10) w),
       current_timestamp;
-- params: [7,"dq_uti_uts_alignment"]

insert into "settlement_ods"."order_tracking_exceptions" ("order_id", "exception_type", "source_table", "event_time", "detected_at", "notes")
select w."order_id", cast($1 as varchar), cast($2 as varchar), w."event_time", current_timestamp, cast($3 as varchar)
  from ot_dq_uti_uts_alignment w
 where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" x
                    where x."exception_type" = cast($1 as varchar) and x."order_id" = w."order_id"
                      and x."resolved_at" is null);
-- params: ["DQ_UTI_UTS_ALIGNMENT","mart_uni_tracking_spath","scan events in mart_uni_tracking_spath within 24 h of the clock but no mart_uni_tracking_info row; found by monitor run 7"]
-- counts: opened

update "settlement_ods"."order_tracking_exceptions" as x
   set "resolved_at" = current_timestamp,
       "notes" = substring(coalesce(nullif(x."notes", '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x."exception_type" = cast($1 as varchar) and x."resolved_at" is null
   and not exists (select 1 from ot_dq_uti_uts_alignment w where w."order_id" = x."order_id")
   and exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = x."order_id");
-- params: ["DQ_UTI_UTS_ALIGNMENT","cleared: mart_uni_tracking_info row found by monitor run 7"]
-- counts: resolved

update "settlement_ods"."order_tracking_exceptions" as x
   set "resolved_at" = current_timestamp,
       "notes" = substring(coalesce(nullif(x."notes", '') || '; ', '') || cast($2 as varchar), 1, 512)
 where x."exception_type" = cast($1 as varchar) and x."resolved_at" is null
   and not exists (select 1 from ot_dq_uti_uts_alignment w where w."order_id" = x."order_id")
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u."order_id" = x."order_id");
-- params: ["DQ_UTI_UTS_ALIGNMENT","cleared: no scan event in mart_uni_tracking_spath within 24 h of the clock of monitor run 7"]
-- counts: resolved

drop table if exists ot_dq_uti_uts_alignment;

select "failing" as failing, "sample" as sample
  from "order_tracking_meta"."dq_results"
 where "run_id" = $1 and "check_name" = $2;
-- params: [7,"dq_uti_uts_alignment"]
