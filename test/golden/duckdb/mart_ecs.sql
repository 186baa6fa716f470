-- batch, committed before the transaction

drop table if exists ot_delta_mart_ecs;

create temporary table ot_delta_mart_ecs as
select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at" from (
  select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at", row_number() over (partition by "order_id" order by "add_time" desc, "id" desc, "_batch_id" desc) as ot_rank
  from (
    select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at" from "settlement_public"."ecs_order_info_raw"
     where _batch_id > $1 and _batch_id <= $2 and "order_id" is not null and "add_time" is not null and "add_time" <= $3 and "add_time" >= $4
    union all
    -- held rows now due, from their copy beside raw
    select r."id", r."order_id", r."partner_id", r."add_time", r."_batch_id", r."_loaded_at" from "settlement_public"."ecs_order_info_held" r
     where r."add_time" <= $3 and r."add_time" >= $4
       and (r.id, r."add_time") in (select e.source_id, e.event_time from "settlement_ods"."order_tracking_exceptions" e
                    where e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.source_table = 'ecs_order_info')
    union all
    -- held rows now due that their copy lacks, from the raw batches that landed them
    select r."id", r."order_id", r."partner_id", r."add_time", r."_batch_id", r."_loaded_at" from "settlement_public"."ecs_order_info_raw" r
     where r._batch_id in (3, 41) and r."order_id" is not null and r."add_time" is not null and r."add_time" <= $3 and r."add_time" >= $4
       and (r.id, r."add_time") in (select e.source_id, e.event_time from "settlement_ods"."order_tracking_exceptions" e
                    where e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.source_table = 'ecs_order_info')
  ) candidates
) ranked
where ot_rank = 1;
-- params: [40,43,1780086400,946684800]

-- stage

drop table if exists ot_match_mart_ecs;

create temporary table ot_match_mart_ecs as
select m."id", m."order_id", m."partner_id", m."add_time", m."_batch_id", m."_loaded_at", x.rowid as ot_row, m.rowid as ot_mart_row, (not (x."add_time" > m."add_time" or (x."add_time" = m."add_time" and (x."id" > m."id" or (x."id" = m."id" and x."_batch_id" > m."_batch_id"))))
       or (not (x."add_time" > m."add_time" or (x."add_time" = m."add_time" and x."id" > m."id")) and ((x."id" = m."id" or (x."id" is null and m."id" is null)) and (x."partner_id" = m."partner_id" or (x."partner_id" is null and m."partner_id" is null)) and (x."add_time" = m."add_time" or (x."add_time" is null and m."add_time" is null))))) as ot_holds from ot_delta_mart_ecs x join "settlement_ods"."mart_ecs_order_info" m on m."order_id" = x."order_id";

drop table if exists ot_stage_mart_ecs;

delete from ot_delta_mart_ecs where rowid in (select ot_row from ot_match_mart_ecs where ot_holds);

delete from ot_match_mart_ecs where ("order_id") in (select "order_id" from ot_match_mart_ecs where ot_holds);

delete from ot_match_mart_ecs where ("order_id") in (select x."order_id" from ot_delta_mart_ecs x, "settlement_ods"."hist_ecs_order_info_2025_h2" h where h."order_id" = x."order_id" and not (x."add_time" > h."add_time" or (x."add_time" = h."add_time" and x."id" > h."id")));

delete from ot_delta_mart_ecs as x using "settlement_ods"."hist_ecs_order_info_2025_h2" h where h."order_id" = x."order_id" and not (x."add_time" > h."add_time" or (x."add_time" = h."add_time" and x."id" > h."id"));

alter table ot_delta_mart_ecs rename to ot_stage_mart_ecs;

drop table if exists ot_bad_mart_ecs;

create temporary table ot_bad_mart_ecs as
select * from "settlement_public"."ecs_order_info_raw"
 where _batch_id > $1 and _batch_id <= $2
   and (order_id is null or not ("order_id" is not null and "add_time" is not null) or "add_time" > $3 or "add_time" < $4);
-- params: [40,43,1780086400,946684800]

delete from "settlement_public"."ecs_order_info_held" as h where exists (select 1 from ot_bad_mart_ecs b where b.id = h.id and b."add_time" = h."add_time" and b."order_id" is not null and b."add_time" is not null and b."add_time" > $1);
-- params: [1780086400]

insert into "settlement_public"."ecs_order_info_held" ("id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at")
select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at" from ot_bad_mart_ecs b where b."order_id" is not null and b."add_time" is not null and b."add_time" > $1;
-- params: [1780086400]

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select null, 'NULL_ORDER_ID', 'ecs_order_info', b.id, null, null, b.ts, current_timestamp, 'order_id is NULL in the source row'
from (select id, max(order_id) as order_id, max("add_time") as ts from ot_bad_mart_ecs
       where order_id is null group by id) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'NULL_ORDER_ID' and e.source_table = 'ecs_order_info' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts));
-- counts: exceptions:NULL_ORDER_ID

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select b.order_id, 'NULL_KEY', 'ecs_order_info', b.id, null, null, b.ts, current_timestamp, 'a key or timestamp column (order_id, add_time) is NULL in the source row'
from (select id, max(order_id) as order_id, max("add_time") as ts from ot_bad_mart_ecs
       where order_id is not null and not ("order_id" is not null and "add_time" is not null) group by id) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'NULL_KEY' and e.source_table = 'ecs_order_info' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts));
-- counts: exceptions:NULL_KEY

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select b.order_id, b.exception_type, 'ecs_order_info', b.id, null, null, b.ts, current_timestamp,
       case b.exception_type when 'FUTURE_TIMESTAMP' then 'add_time more than 1 day after the run clock; folded in once it is no longer in the future'
                             else 'add_time before the timestampFloor setting; kept out of the marts' end
from (select id, exception_type, max(order_id) as order_id, max("add_time") as ts
       from (select r.*, case when "add_time" > $1 then 'FUTURE_TIMESTAMP' else 'TIMESTAMP_BEFORE_FLOOR' end as exception_type from ot_bad_mart_ecs r
              where order_id is not null and ("add_time" > $1 or "add_time" < $2)) t
       group by id, exception_type) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = b.exception_type and e.source_table = 'ecs_order_info' and e.source_id = b.id
                     and e.event_time = b.ts);
-- params: [1780086400,946684800]
-- counts: exceptions:FUTURE_TIMESTAMP|TIMESTAMP_BEFORE_FLOOR

update "settlement_ods"."order_tracking_exceptions" set resolved_at = current_timestamp
 where exception_type = 'FUTURE_TIMESTAMP' and resolved_at is null and source_table = 'ecs_order_info' and event_time <= $1;
-- params: [1780086400]
-- counts: resolved:FUTURE_TIMESTAMP

delete from "settlement_public"."ecs_order_info_held" where "add_time" <= $1;
-- params: [1780086400]

-- apply

delete from "settlement_ods"."mart_ecs_order_info" as t where t.rowid in (select ot_mart_row from ot_match_mart_ecs);
-- counts: replaced

delete from "settlement_ods"."hist_ecs_order_info_2025_h2" as t where exists (select 1 from ot_stage_mart_ecs s where s."order_id" = t."order_id");
-- counts: reactivated

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info'
   and exists (select 1 from ot_stage_mart_ecs s where s."order_id" = e."order_id");
-- counts: resolved:superseded

insert into "settlement_ods"."mart_ecs_order_info" ("id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at") select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at" from ot_stage_mart_ecs order by "add_time";
-- counts: inserted

-- revive

drop table if exists ot_revive_mart_ecs;

create temporary table ot_revive_mart_ecs as
select h."id", h."order_id", h."partner_id", h."add_time", h."_batch_id", h."_loaded_at" from "settlement_ods"."hist_ecs_order_info_2025_h2" h where h.order_id in (
    select r.order_id from "settlement_public"."uni_tracking_info_raw" r
     where r._batch_id > $1 and r._batch_id <= $2 and r.order_id is not null
       and not exists (select 1 from "settlement_ods"."mart_ecs_order_info" m where m.order_id = r.order_id))
   and exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = h.order_id);
-- params: [39,42]

insert into "settlement_ods"."mart_ecs_order_info" ("id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at") select "id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at" from ot_revive_mart_ecs order by "add_time";
-- counts: revived

delete from "settlement_ods"."hist_ecs_order_info_2025_h2" as t where exists (select 1 from ot_revive_mart_ecs v where v.order_id = t.order_id);

-- look-up: cutoff
select max("update_time") as m from "settlement_ods"."mart_uni_tracking_info";
-- answer: 1780000000

-- look-up: oldest aged row
select min(m."add_time") as m from "settlement_ods"."mart_ecs_order_info" m
where m."add_time" >= $1 and m."add_time" < $2
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = m.order_id)
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info' and e."order_id" = m."order_id" and e.event_time = m."add_time");
-- params: [-2147483648,1764448000]
-- answer: 1740787200

-- archive

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select m.order_id, 'ARCHIVE_ROUTING_GAP', 'ecs_order_info', m.id, null, null, m."add_time", current_timestamp,
       'aged out but period 2025_h1 is frozen by configuration; kept in mart_ecs_order_info'
from "settlement_ods"."mart_ecs_order_info" m
where m."add_time" >= $1 and m."add_time" < $2
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = m.order_id)
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info' and e."order_id" = m."order_id" and e.event_time = m."add_time");
-- params: [1735689600,1751328000]
-- counts: gaps:2025_h1

delete from "settlement_ods"."hist_ecs_order_info_2025_h2" as t where exists (select 1 from "settlement_ods"."mart_ecs_order_info" m where m."order_id" = t."order_id" and m."add_time" >= $1 and m."add_time" < $2
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = m.order_id)
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info' and e."order_id" = m."order_id" and e.event_time = m."add_time"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_ecs_order_info_2025_h2" ("id", "order_id", "partner_id", "add_time", "_batch_id", "_loaded_at") select m."id", m."order_id", m."partner_id", m."add_time", m."_batch_id", m."_loaded_at" from "settlement_ods"."mart_ecs_order_info" m where m."add_time" >= $1 and m."add_time" < $2
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = m.order_id)
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info' and e."order_id" = m."order_id" and e.event_time = m."add_time") order by m."add_time";
-- params: [1751328000,1764448000]
-- counts: archived:2025_h2

delete from "settlement_ods"."mart_ecs_order_info" as m where m."add_time" >= $1 and m."add_time" < $2
   and not exists (select 1 from "settlement_ods"."mart_uni_tracking_info" u where u.order_id = m.order_id)
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'ecs_order_info' and e."order_id" = m."order_id" and e.event_time = m."add_time");
-- params: [1751328000,1764448000]

-- mark

delete from "order_tracking_meta"."mart_state" where mart = $1 and source_table = $2;
-- params: ["mart_ecs","ecs_order_info"]

insert into "order_tracking_meta"."mart_state" (mart, source_table, batch_id, updated_at) values ($1, $2, $3, current_timestamp);
-- params: ["mart_ecs","ecs_order_info",43]

delete from "order_tracking_meta"."mart_state" where mart = $1 and source_table = $2;
-- params: ["mart_ecs","uni_tracking_info"]

insert into "order_tracking_meta"."mart_state" (mart, source_table, batch_id, updated_at) values ($1, $2, $3, current_timestamp);
-- params: ["mart_ecs","uni_tracking_info",42]

-- drop work tables

drop table if exists ot_delta_mart_ecs;

drop table if exists ot_match_mart_ecs;

drop table if exists ot_stage_mart_ecs;

drop table if exists ot_revive_mart_ecs;

drop table if exists ot_bad_mart_ecs;
