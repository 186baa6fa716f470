-- batch, committed before the transaction

drop table if exists ot_delta_mart_uts;

create temporary table ot_delta_mart_uts as
select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from (
  select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at", row_number() over (partition by "pathtime", "order_id", "traceseq" order by "id" desc, "_batch_id" desc) as ot_rank
  from (
    select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from "settlement_public"."uni_tracking_spath_raw"
     where _batch_id > $1 and _batch_id <= $2 and "order_id" is not null and "traceseq" is not null and "pathtime" is not null and "pathtime" <= $3 and "pathtime" >= $4
  ) candidates
) ranked
where ot_rank = 1;
-- params: [0,3,1780086400,946684800]

-- stage

drop table if exists ot_match_mart_uts;

create temporary table ot_match_mart_uts as
select m."id", m."order_id", m."traceseq", m."pathtime", m."_batch_id", m."_loaded_at", x.rowid as ot_row, m.rowid as ot_mart_row, (not (x."id" > m."id" or (x."id" = m."id" and x."_batch_id" > m."_batch_id"))
       or (not x."id" > m."id" and ((x."id" = m."id" or (x."id" is null and m."id" is null))))) as ot_holds from ot_delta_mart_uts x join "settlement_ods"."mart_uni_tracking_spath" m on m."order_id" = x."order_id" and m."traceseq" = x."traceseq" and m."pathtime" = x."pathtime" and m."pathtime" >= (select min("pathtime") from ot_delta_mart_uts);

drop table if exists ot_stage_mart_uts;

delete from ot_delta_mart_uts where rowid in (select ot_row from ot_match_mart_uts where ot_holds);

delete from ot_match_mart_uts where ("order_id", "traceseq", "pathtime") in (select "order_id", "traceseq", "pathtime" from ot_match_mart_uts where ot_holds);

alter table ot_delta_mart_uts rename to ot_stage_mart_uts;

drop table if exists ot_bad_mart_uts;

create temporary table ot_bad_mart_uts as
select * from "settlement_public"."uni_tracking_spath_raw"
 where _batch_id > $1 and _batch_id <= $2
   and (order_id is null or not ("order_id" is not null and "traceseq" is not null and "pathtime" is not null) or "pathtime" > $3 or "pathtime" < $4);
-- params: [0,3,1780086400,946684800]

drop table if exists "settlement_public"."uni_tracking_spath_held";

create table "settlement_public"."uni_tracking_spath_held" as select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from "settlement_ods"."mart_uni_tracking_spath" where 1 = 0;

insert into "settlement_public"."uni_tracking_spath_held" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at")
select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from ot_bad_mart_uts b where b."order_id" is not null and b."traceseq" is not null and b."pathtime" is not null and b."pathtime" > $1;
-- params: [1780086400]

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select null, 'NULL_ORDER_ID', 'uni_tracking_spath', b.id, b."traceseq", b."pathtime", b.ts, current_timestamp, 'order_id is NULL in the source row'
from (select id, max(order_id) as order_id, max("pathtime") as ts, max("traceseq") as "traceseq", max("pathtime") as "pathtime" from ot_bad_mart_uts
       where order_id is null group by id) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'NULL_ORDER_ID' and e.source_table = 'uni_tracking_spath' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts));
-- counts: exceptions:NULL_ORDER_ID

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select b.order_id, 'NULL_KEY', 'uni_tracking_spath', b.id, b."traceseq", b."pathtime", b.ts, current_timestamp, 'a key or timestamp column (order_id, traceseq, pathtime) is NULL in the source row'
from (select id, max(order_id) as order_id, max("pathtime") as ts, max("traceseq") as "traceseq", max("pathtime") as "pathtime" from ot_bad_mart_uts
       where order_id is not null and not ("order_id" is not null and "traceseq" is not null and "pathtime" is not null) group by id) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = 'NULL_KEY' and e.source_table = 'uni_tracking_spath' and e.source_id = b.id
                     and (e.resolved_at is null or e.event_time = b.ts));
-- counts: exceptions:NULL_KEY

insert into "settlement_ods"."order_tracking_exceptions" (order_id, exception_type, source_table, source_id, traceseq, pathtime, event_time, detected_at, notes)
select b.order_id, b.exception_type, 'uni_tracking_spath', b.id, b."traceseq", b."pathtime", b.ts, current_timestamp,
       case b.exception_type when 'FUTURE_TIMESTAMP' then 'pathtime more than 1 day after the run clock; folded in once it is no longer in the future'
                             else 'pathtime before the timestampFloor setting; kept out of the marts' end
from (select id, exception_type, max(order_id) as order_id, max("pathtime") as ts, max("traceseq") as "traceseq", max("pathtime") as "pathtime"
       from (select r.*, case when "pathtime" > $1 then 'FUTURE_TIMESTAMP' else 'TIMESTAMP_BEFORE_FLOOR' end as exception_type from ot_bad_mart_uts r
              where order_id is not null and ("pathtime" > $1 or "pathtime" < $2)) t
       group by id, exception_type) b
where not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
                   where e.exception_type = b.exception_type and e.source_table = 'uni_tracking_spath' and e.source_id = b.id
                     and e.event_time = b.ts);
-- params: [1780086400,946684800]
-- counts: exceptions:FUTURE_TIMESTAMP|TIMESTAMP_BEFORE_FLOOR

update "settlement_ods"."order_tracking_exceptions" set resolved_at = current_timestamp
 where exception_type = 'FUTURE_TIMESTAMP' and resolved_at is null and source_table = 'uni_tracking_spath' and event_time <= $1;
-- params: [1780086400]
-- counts: resolved:FUTURE_TIMESTAMP

-- look-up: cutoff after the apply
select max(m) as m from (select max("pathtime") as m from "settlement_ods"."mart_uni_tracking_spath" union all select max("pathtime") as m from ot_stage_mart_uts) x;
-- answer: 1780000000

-- look-up: oldest aged row in the stage
select min(m."pathtime") as m from ot_stage_mart_uts m
where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [-2147483648,1764448000]
-- answer: 1740787200

-- apply

delete from "settlement_ods"."mart_uni_tracking_spath" as t where t.rowid in (select ot_mart_row from ot_match_mart_uts);
-- counts: replaced

update "settlement_ods"."order_tracking_exceptions" as e set resolved_at = current_timestamp
 where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath'
   and exists (select 1 from ot_stage_mart_uts s where s."order_id" = e."order_id" and s."traceseq" = e."traceseq" and s."pathtime" = e."pathtime");
-- counts: resolved:superseded

create table if not exists "settlement_ods"."hist_uni_tracking_spath_2025_h1" (
  "id" bigint,
  "order_id" varchar,
  "traceseq" integer,
  "pathtime" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
);

delete from "settlement_ods"."hist_uni_tracking_spath_2025_h1" as t where exists (select 1 from ot_stage_mart_uts m where m."order_id" = t."order_id" and m."traceseq" = t."traceseq" and m."pathtime" = t."pathtime" and m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime"));
-- params: [1735689600,1751328000]

insert into "settlement_ods"."hist_uni_tracking_spath_2025_h1" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select m."id", m."order_id", m."traceseq", m."pathtime", m."_batch_id", m."_loaded_at" from ot_stage_mart_uts m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime") order by m."pathtime";
-- params: [1735689600,1751328000]
-- counts: archived:2025_h1

delete from ot_stage_mart_uts as m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [1735689600,1751328000]

create table if not exists "settlement_ods"."hist_uni_tracking_spath_2025_h2" (
  "id" bigint,
  "order_id" varchar,
  "traceseq" integer,
  "pathtime" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
);

delete from "settlement_ods"."hist_uni_tracking_spath_2025_h2" as t where exists (select 1 from ot_stage_mart_uts m where m."order_id" = t."order_id" and m."traceseq" = t."traceseq" and m."pathtime" = t."pathtime" and m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_uni_tracking_spath_2025_h2" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select m."id", m."order_id", m."traceseq", m."pathtime", m."_batch_id", m."_loaded_at" from ot_stage_mart_uts m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime") order by m."pathtime";
-- params: [1751328000,1764448000]
-- counts: archived:2025_h2

delete from ot_stage_mart_uts as m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [1751328000,1764448000]

insert into "settlement_ods"."mart_uni_tracking_spath" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select "id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at" from ot_stage_mart_uts order by "pathtime";
-- counts: inserted

-- look-up: cutoff
select max("pathtime") as m from "settlement_ods"."mart_uni_tracking_spath";
-- answer: 1780000000

-- look-up: oldest aged row
select min(m."pathtime") as m from "settlement_ods"."mart_uni_tracking_spath" m
where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [-2147483648,1764448000]
-- answer: 1740787200

-- archive

delete from "settlement_ods"."hist_uni_tracking_spath_2025_h1" as t where exists (select 1 from "settlement_ods"."mart_uni_tracking_spath" m where m."order_id" = t."order_id" and m."traceseq" = t."traceseq" and m."pathtime" = t."pathtime" and m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime"));
-- params: [1735689600,1751328000]

insert into "settlement_ods"."hist_uni_tracking_spath_2025_h1" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select m."id", m."order_id", m."traceseq", m."pathtime", m."_batch_id", m."_loaded_at" from "settlement_ods"."mart_uni_tracking_spath" m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime") order by m."pathtime";
-- params: [1735689600,1751328000]
-- counts: archived:2025_h1

delete from "settlement_ods"."mart_uni_tracking_spath" as m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [1735689600,1751328000]

delete from "settlement_ods"."hist_uni_tracking_spath_2025_h2" as t where exists (select 1 from "settlement_ods"."mart_uni_tracking_spath" m where m."order_id" = t."order_id" and m."traceseq" = t."traceseq" and m."pathtime" = t."pathtime" and m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime"));
-- params: [1751328000,1764448000]

insert into "settlement_ods"."hist_uni_tracking_spath_2025_h2" ("id", "order_id", "traceseq", "pathtime", "_batch_id", "_loaded_at") select m."id", m."order_id", m."traceseq", m."pathtime", m."_batch_id", m."_loaded_at" from "settlement_ods"."mart_uni_tracking_spath" m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime") order by m."pathtime";
-- params: [1751328000,1764448000]
-- counts: archived:2025_h2

delete from "settlement_ods"."mart_uni_tracking_spath" as m where m."pathtime" >= $1 and m."pathtime" < $2
   and not exists (select 1 from "settlement_ods"."order_tracking_exceptions" e
       where e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and e.resolved_at is null and e.source_table = 'uni_tracking_spath' and e."order_id" = m."order_id" and e."traceseq" = m."traceseq" and e."pathtime" = m."pathtime" and e.event_time = m."pathtime");
-- params: [1751328000,1764448000]

-- mark

delete from "order_tracking_meta"."mart_state" where mart = $1 and source_table = $2;
-- params: ["mart_uts","uni_tracking_spath"]

insert into "order_tracking_meta"."mart_state" (mart, source_table, batch_id, updated_at) values ($1, $2, $3, current_timestamp);
-- params: ["mart_uts","uni_tracking_spath",3]

-- drop work tables

drop table if exists ot_delta_mart_uts;

drop table if exists ot_match_mart_uts;

drop table if exists ot_stage_mart_uts;

drop table if exists ot_revive_mart_uts;

drop table if exists ot_bad_mart_uts;
