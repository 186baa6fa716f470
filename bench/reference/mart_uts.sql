-- mart_uni_tracking_spath as the seed deploys it: incremental delete+insert on
-- (order_id, traceSeq, pathTime) with a 2-hour incremental predicate on pathTime, then its three
-- post-hooks (archive, safety check, pure time-based trim).
--
-- {{mart}} {{hist}} {{exceptions}} {{raw}} {{tmp}}: quoted relations; {{columns}}: the quoted column
-- list; {{batch_from}} {{batch_to}}: the raw batches of the cycle; {{period_start}} {{period_end}}:
-- epoch seconds of the current hist period.

-- step: model
create temporary table {{tmp}} as (
  with filtered as (
    select {{columns}} from {{raw}}
     where _batch_id between {{batch_from}} and {{batch_to}}
  ),
  ranked as (
    select {{columns}}, row_number() over (partition by order_id, traceseq order by pathtime desc, id desc) as _rn
      from filtered
  )
  select {{columns}} from ranked where _rn = 1
);

-- step: delete
-- dbt's delete+insert with a composite unique_key: DELETE … USING, plus the incremental predicate.
delete from {{mart}}
 using {{tmp}}
 where ({{tmp}}.order_id = {{mart}}.order_id
   and {{tmp}}.traceseq = {{mart}}.traceseq
   and {{tmp}}.pathtime = {{mart}}.pathtime
   and {{mart}}.pathtime > (select coalesce(max(pathtime), 0) - 7200 from {{mart}}));

-- step: insert
insert into {{mart}} ({{columns}}) (select {{columns}} from {{tmp}});

-- step: hook1_archive
insert into {{hist}}
select * from {{mart}}
 where pathtime < (select coalesce(max(pathtime), 0) - 15552000 from {{mart}})
   and pathtime >= {{period_start}} and pathtime < {{period_end}}
   and order_id not in (select order_id from {{hist}} where pathtime >= {{period_start}});

-- step: hook2_safety_check
insert into {{exceptions}} (order_id, exception_type, detected_at, notes)
select distinct m.order_id, 'ARCHIVE_ROUTING_GAP_UTS', current_timestamp,
       'pathTime outside all defined hist_uts periods - excluded from trim'
  from {{mart}} m
 where m.pathtime < (select coalesce(max(pathtime), 0) - 15552000 from {{mart}})
   and not exists (select 1 from {{hist}} h where h.order_id = m.order_id and h.pathtime = m.pathtime)
   and not exists (select 1 from {{exceptions}} e
                    where e.order_id = m.order_id and e.exception_type = 'ARCHIVE_ROUTING_GAP_UTS'
                      and e.resolved_at is null);

-- step: hook3_trim
delete from {{mart}}
 where pathtime < (select coalesce(max(pathtime), 0) - 15552000 from {{mart}})
   and order_id not in (select order_id from {{exceptions}}
                         where exception_type = 'ARCHIVE_ROUTING_GAP_UTS' and resolved_at is null);
