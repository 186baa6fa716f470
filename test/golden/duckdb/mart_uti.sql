-- batch, committed before the transaction

drop table if exists ot_delta_mart_uti;

create temporary table ot_delta_mart_uti as
select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at" from (
  select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at", row_number() over (partition by "order_id" order by "update_time" desc, "id" desc, "_batch_id" desc) as ot_rank
  from (
    select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at" from "settlement_public"."uni_tracking_info_raw"
     where _batch_id > $1 and _batch_id <= $2 and "order_id" is not null and "update_time" is not null and "update_time" <= $3 and "update_time" >= $4
    union all
    -- held rows now due, from their copy beside raw
    select r."id", r."order_id", r."status", r."update_time", r."_batch_id", r."_loaded_at" from "settlement_public"."uni_tracking_info_held" r
     where r."update_time" <= $3 and r."update_time" >= $4
       and (r.id, r."update_time") in (select e.source_id, e.event_time from "settlement_ods"."order_tracking_exceptions" e
                    where e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.source_table = 'uni_tracking_info')
    union all
    -- held rows now due that their copy lacks, from the raw batches that landed them
    select r."id", r."order_id", r."status", r."update_time", r."_batch_id", r."_loaded_at" from "settlement_public"."uni_tracking_info_raw" r
     where r._batch_id in (3, 41) and r."order_id" is not null and r."update_time" is not null and r."update_time" <= $3 and r."update_time" >= $4
       and (r.id, r."update_time") in (select e.source_id, e.event_time from "settlement_ods"."order_tracking_exceptions" e
                    where e.exception_type = 'FUTURE_TIMESTAMP' and e.resolved_at is null and e.source_table = 'uni_tracking_info')
  ) candidates
) ranked
where ot_rank = 1;
-- params: [40,43,1780086400,946684800]

-- stage

drop table if exists ot_match_mart_uti;

create temporary table ot_match_mart_uti as
select m."id", m."order_id", m."status", m."update_time", m."_batch_id", m."_loaded_at", x.rowid as ot_row, m.rowid as ot_mart_row, (not (x."update_time" > m."update_time" or (x."update_time" = m."update_time" and (x."id" > m."id" or (x."id" = m."id" and x."_batch_id" > m."_batch_id"))))
       or (not (x."update_time" > m."update_time" or (x."update_time" = m."update_time" and x."id" > m."id")) and ((x."id" = m."id" or (x."id" is null and m."id" is null)) and (x."status" = m."status" or (x."status" is null and m."status" is null)) and (x."update_time" = m."update_time" or (x."update_time" is null and m."update_time" is null))))) as ot_holds from ot_delta_mart_uti x join "settlement_ods"."mart_uni_tracking_info" m on m."order_id" = x."order_id";

drop table if exists ot_stage_mart_uti;

delete from ot_delta_mart_uti where rowid in (select ot_row from ot_match_mart_uti where ot_holds);

delete from ot_match_mart_uti where ("order_id") in (select "order_id" from ot_match_mart_uti where ot_holds);

delete from ot_match_mart_uti where ("order_id") in (select x."order_id" from ot_delta_mart_uti x, "settlement_ods"."hist_uni_tracking_info_2025_h2" h where h."order_id" = x."order_id" and not (x."update_time" > h."update_time" or (x."update_time" = h."update_time" and x."id" > h."id")));

delete from ot_delta_mart_uti as x using "settlement_ods"."hist_uni_tracking_info_2025_h2" h where h."order_id" = x."order_id" and not (x."update_time" > h."update_time" or (x."update_time" = h."update_time" and x."id" > h."id"));

alter table ot_delta_mart_uti rename to ot_stage_mart_uti;

drop table if exists ot_bad_mart_uti;

create temporary table ot_bad_mart_uti as
select * from "settlement_public"."uni_tracking_info_raw"
 where _batch_id > $1 and _batch_id <= $2
   and (order_id is null or not ("order_id" is not null and "update_time" is not null) or "update_time" > $3 or "update_time" < $4);
-- params: [40,43,1780086400,946684800]

delete from "settlement_public"."uni_tracking_info_held" as h where exists (select 1 from ot_bad_mart_uti b where b.id = h.id and b."update_time" = h."update_time" and b."order_id" is not null and b."update_time" is not null and b."update_time" > $1);
-- params: [1780086400]

insert into "settlement_public"."uni_tracking_info_held" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at")
select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at" from ot_bad_mart_uti b where b."order_id" is not null and b."update_time" is not null and b."update_time" > $1;
-- params: [1780086400]

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select null, 'NULL_ORDER_ID', 'uni_tracking_info', b.id, null, null, b.ts, current_timestamp, 'order_id is NULL in the source row'
from (select id, max(order_id) as order_id, max("update_time") as ts from ot_bad_mart_uti
       where order_id is null group by id) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'NULL_ORDER_ID' and e.source_table = 'uni_tracking_info' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts));
-- counts: exceptions:NULL_ORDER_ID

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select b.order_id, 'NULL_KEY', 'uni_tracking_info', b.id, null, null, b.ts, current_timestamp, 'a key or timestamp column (order_id, update_time) is NULL in the source row'
from (select id, max(order_id) as order_id, max("update_time") as ts from ot_bad_mart_uti
       where order_id is not null and not ("order_id" is not null and "update_time" is not null) group by id) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'NULL_KEY' and e.source_table = 'uni_tracking_info' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts));
-- counts: exceptions:NULL_KEY

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select b.order_id, b.exception_type, 'uni_tracking_info', b.id, null, null, b.ts, current_timestamp,
       case b.exception_type when 'FUTURE_TIMESTAMP' then 'update_time more than 1 day after the run clock; folded in once it is no longer in the future'
                             else 'update_time before the timestampFloor setting; kept out of the marts' end
from (select id, exception_type, max(order_id) as order_id, max("update_time") as ts
       from (select r.*, case when "update_time" > $1 then 'FUTURE_TIMESTAMP' else 'TIMESTAMP_BEFORE_FLOOR' end as exception_type from ot_bad_mart_uti r
              where order_id is not null and ("update_time" > $1 or "update_time" < $2)) t
       group by id, exception_type) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = b.exception_type and e.source_table = 'uni_tracking_info' and e.source_id = b.id
                     and e.event_time = b.ts);
-- params: [1780086400,946684800]
-- counts: exceptions:FUTURE_TIMESTAMP|TIMESTAMP_BEFORE_FLOOR

update "settlement_ods"."order_tracking_exceptions" set resolved_at = current_timestamp
 where exception_type = 'FUTURE_TIMESTAMP' and resolved_at is null and source_table = 'uni_tracking_info' and event_time <= $1;
-- params: [1780086400]
-- counts: resolved:FUTURE_TIMESTAMP

delete from "settlement_public"."uni_tracking_info_held" where "update_time" <= $1;
-- params: [1780086400]

-- look-up: cutoff after the apply
select max(m) as m from (select max("update_time") as m from "settlement_ods"."mart_uni_tracking_info" union all select max("update_time") as m from ot_stage_mart_uti) x;
-- answer: 1780000000

-- look-up: oldest aged row in the stage
select min(m."update_time") as m from ot_stage_mart_uti m
where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [-2147483648,1764448000]
-- answer: 1740787200

-- apply

delete from "settlement_ods"."mart_uni_tracking_info" as t where t.rowid in (select ot_mart_row from ot_match_mart_uti);
-- counts: replaced

delete from "settlement_ods"."hist_uni_tracking_info_2025_h2" as t where exists (select 1 from ot_stage_mart_uti s where s."order_id" = t."order_id");
-- counts: reactivated

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info'
   and exists (select 1 from ot_stage_mart_uti s where s."order_id" = e."order_id");
-- counts: resolved:superseded

delete from "settlement_ods"."hist_uni_tracking_info_2025_h2" as t where exists (select 1 from ot_stage_mart_uti m where m."order_id" = t."order_id" and m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_uni_tracking_info_2025_h2" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at") select m."id", m."order_id", m."status", m."update_time", m."_batch_id", m."_loaded_at" from ot_stage_mart_uti m where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time") order by m."update_time";
-- params: [1751328000,1764448000]
-- counts: archived:2025_h2

delete from ot_stage_mart_uti as m where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [1751328000,1764448000]

insert into "settlement_ods"."mart_uni_tracking_info" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at") select "id", "order_id", "status", "update_time", "_batch_id", "_loaded_at" from ot_stage_mart_uti order by "update_time";
-- counts: inserted

-- look-up: cutoff
select max("update_time") as m from "settlement_ods"."mart_uni_tracking_info";
-- answer: 1780000000

-- look-up: oldest aged row
select min(m."update_time") as m from "settlement_ods"."mart_uni_tracking_info" m
where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [-2147483648,1764448000]
-- answer: 1740787200

-- archive

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select m.order_id, 'ARCHIVE_ROUTING_GAP', 'uni_tracking_info', m.id, null, null, m."update_time", current_timestamp,
       'aged out but period 2025_h1 is frozen by configuration; kept in mart_uni_tracking_info'
from "settlement_ods"."mart_uni_tracking_info" m
where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [1735689600,1751328000]
-- counts: gaps:2025_h1

delete from "settlement_ods"."hist_uni_tracking_info_2025_h2" as t where exists (select 1 from "settlement_ods"."mart_uni_tracking_info" m where m."order_id" = t."order_id" and m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_uni_tracking_info_2025_h2" ("id", "order_id", "status", "update_time", "_batch_id", "_loaded_at") select m."id", m."order_id", m."status", m."update_time", m."_batch_id", m."_loaded_at" from "settlement_ods"."mart_uni_tracking_info" m where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time") order by m."update_time";
-- params: [1751328000,1764448000]
-- counts: archived:2025_h2

delete from "settlement_ods"."mart_uni_tracking_info" as m where m."update_time" >= $1 and m."update_time" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP' and e.resolved_at is null and e.source_table = 'uni_tracking_info' and e."order_id" = m."order_id" and e.event_time = m."update_time");
-- params: [1751328000,1764448000]

-- mark

delete from "order_tracking_meta"."mart_state" where mart = $1 and source_table = $2;
-- params: ["mart_uti","uni_tracking_info"]

insert into "order_tracking_meta"."mart_state" (mart, source_table, batch_id, updated_at) values ($1, $2, $3, current_timestamp);
-- params: ["mart_uti","uni_tracking_info",43]

-- drop work tables

drop table if exists ot_delta_mart_uti;

drop table if exists ot_match_mart_uti;

drop table if exists ot_stage_mart_uti;

drop table if exists ot_revive_mart_uti;

drop table if exists ot_bad_mart_uti;
