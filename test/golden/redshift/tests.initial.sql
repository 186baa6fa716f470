-- unique_mart_uti (error)
select min(order_id) as order_id, coalesce(cast("order_id" as varchar), 'NULL') || ' x' || cast(count(*) as varchar) as detail
from "settlement_ods"."mart_uni_tracking_info"
where not ("order_id" is null)
group by "order_id" having count(*) > 1
limit 1000;
-- params: []

-- unique_mart_ecs (error)
select min(order_id) as order_id, coalesce(cast("order_id" as varchar), 'NULL') || ' x' || cast(count(*) as varchar) as detail
from "settlement_ods"."mart_ecs_order_info"
where not ("order_id" is null)
group by "order_id" having count(*) > 1
limit 1000;
-- params: []

-- unique_mart_uts (error)
select min(order_id) as order_id, coalesce(cast("order_id" as varchar), 'NULL') || '/' || coalesce(cast("traceseq" as varchar), 'NULL') || '/' || coalesce(cast("pathtime" as varchar), 'NULL') || ' x' || cast(count(*) as varchar) as detail
from "settlement_ods"."mart_uni_tracking_spath"
where not ("order_id" is null or "traceseq" is null or "pathtime" is null)
group by "order_id", "traceseq", "pathtime" having count(*) > 1
limit 1000;
-- params: []
