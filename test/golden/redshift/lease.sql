create schema if not exists "order_tracking_meta";

create table if not exists "order_tracking_meta"."leases" (
  "lease_key" varchar(256),
  "holder_pid" integer,
  "holder_start" timestamp,
  "holder" varchar(256),
  "taken_at" timestamp
) diststyle all;

select process as pid, cast(starttime as varchar) as since from stv_sessions where process = pg_backend_pid();

begin;

lock "order_tracking_meta"."leases";

select holder_pid as pid, cast(holder_start as varchar) as since from "order_tracking_meta"."leases" where lease_key = $1;

select process from stv_sessions where process = $1 and starttime = cast($2 as timestamp);

delete from "order_tracking_meta"."leases" where lease_key = $1;

insert into "order_tracking_meta"."leases" (lease_key, holder_pid, holder_start, holder, taken_at) values ($1, $2, cast($3 as timestamp), $4, cast($5 as timestamp));

commit;

delete from "order_tracking_meta"."leases" where lease_key = $1 and holder_pid = $2;
