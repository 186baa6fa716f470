create schema if not exists "order_tracking_meta";

create table if not exists "order_tracking_meta"."leases" (
  "lease_key" varchar(256),
  "holder_pid" integer,
  "holder_start" timestamp,
  "holder" varchar(256),
  "taken_at" timestamp
) diststyle all;

begin;

lock "order_tracking_meta"."leases";

select l.holder_pid as pid, l.holder_start as since,
       exists (select 1 from stv_sessions s where s.process = l.holder_pid and s.starttime = l.holder_start) as alive
  from "order_tracking_meta"."leases" l where l.lease_key = $1;

delete from "order_tracking_meta"."leases" where lease_key = $1;

insert into "order_tracking_meta"."leases" (lease_key, holder_pid, holder_start, holder, taken_at)
select $1, s.process, s.starttime, $2, getdate() from stv_sessions s where s.process = pg_backend_pid();

commit;

delete from "order_tracking_meta"."leases" where lease_key = $1 and holder_pid = pg_backend_pid();
