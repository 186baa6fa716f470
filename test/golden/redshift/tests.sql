-- unique_mart_uti (error)
select min(order_id) as order_id, coalesce(cast("order_id" as varchar), 'NULL') || ' x' || cast(count(*) as varchar) as detail
from "settlement_ods"."mart_uni_tracking_info"
where ("order_id") in (select "order_id" from "settlement_ods"."mart_uni_tracking_info" where _batch_id > $1 and _batch_id <= $2)
group by "order_id" having count(*) > 1
limit 1000;
-- params: [40,43]

-- not_null_mart_uti (error)
select order_id, coalesce(cast("order_id" as varchar), 'NULL') as detail from "settlement_ods"."mart_uni_tracking_info"
where _batch_id > $1 and _batch_id <= $2 and ("order_id" is null)
limit 1000;
-- params: [40,43]

-- unique_mart_ecs (error)
select min(order_id) as order_id, coalesce(cast("order_id" as varchar), 'NULL') || ' x' || cast(count(*) as varchar) as detail
from "settlement_ods"."mart_ecs_order_info"
where ("order_id") in (select "order_id" from "settlement_ods"."mart_ecs_order_info" where _batch_id > $1 and _batch_id <= $2)
group by "order_id" having count(*) > 1
limit 1000;
-- params: [40,43]

-- not_null_mart_ecs (error)
select order_id, coalesce(cast("order_id" as varchar), 'NULL') as detail from "settlement_ods"."mart_ecs_order_info"
where _batch_id > $1 and _batch_id <= $2 and ("order_id" is null)
limit 1000;
-- params: [40,43]

-- unique_mart_uts (error)
select min(order_id) as order_id, coalesce(cast("order_id" as varchar), 'NULL') || '/' || coalesce(cast("traceseq" as varchar), 'NULL') || '/' || coalesce(cast("pathtime" as varchar), 'NULL') || ' x' || cast(count(*) as varchar) as detail
from "settlement_ods"."mart_uni_tracking_spath"
where exists (select 1 from "settlement_ods"."mart_uni_tracking_spath" w where w."order_id" = "settlement_ods"."mart_uni_tracking_spath"."order_id" and w."traceseq" = "settlement_ods"."mart_uni_tracking_spath"."traceseq" and w."pathtime" = "settlement_ods"."mart_uni_tracking_spath"."pathtime" and w._batch_id > $1 and w._batch_id <= $2)
group by "order_id", "traceseq", "pathtime" having count(*) > 1
limit 1000;
-- params: [40,43]

-- not_null_mart_uts (error)
select order_id, coalesce(cast("order_id" as varchar), 'NULL') || '/' || coalesce(cast("traceseq" as varchar), 'NULL') || '/' || coalesce(cast("pathtime" as varchar), 'NULL') as detail from "settlement_ods"."mart_uni_tracking_spath"
where _batch_id > $1 and _batch_id <= $2 and ("order_id" is null or "traceseq" is null or "pathtime" is null)
limit 1000;
-- params: [40,43]

-- relationship_mart_uts_mart_uti (warn)
select distinct s.order_id, 'scan events without a mart_uti row' as detail
from "settlement_ods"."mart_uni_tracking_spath" s
where s._batch_id > $1 and s._batch_id <= $2
  and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = s.order_id)
limit 1000;
-- params: [40,43]
