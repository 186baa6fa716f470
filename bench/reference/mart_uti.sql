-- mart_uni_tracking_info as the seed deploys it (see bench/reference.ts for how dbt-postgres runs a model):
-- materialized incremental, strategy delete+insert, unique_key order_id, no incremental_predicates,
-- then its four post-hooks in order. dbt-postgres runs all of it in one transaction.
--
-- {{mart}} {{hist}} {{exceptions}} {{raw}} {{tmp}}: quoted relations; {{columns}}: the quoted column
-- list; {{period_start}} {{period_end}}: epoch seconds of the current hist period.

-- step: model
-- The seed's source cutoff: raw rows younger than the mart's max(update_time) - 1800, newest per order.
create temporary table {{tmp}} as (
  with filtered as (
    select {{columns}} from {{raw}}
     where update_time > (select coalesce(max(update_time), 0) - 1800 from {{mart}})
  ),
  ranked as (
    select {{columns}}, row_number() over (partition by order_id order by update_time desc, id desc) as _rn
      from filtered
  )
  select {{columns}} from ranked where _rn = 1
);

-- step: delete
delete from {{mart}} where (order_id) in (select (order_id) from {{tmp}});

-- step: insert
insert into {{mart}} ({{columns}}) (select {{columns}} from {{tmp}});

-- step: hook1_hist_cleanup
-- Reactivated orders: their stale row leaves the latest hist table.
delete from {{hist}}
 where order_id in (select order_id from {{mart}}
                     where update_time >= (select coalesce(max(update_time), 0) - 900 from {{mart}}));

-- step: hook2_archive
insert into {{hist}}
select * from {{mart}}
 where update_time < (select coalesce(max(update_time), 0) - 15552000 from {{mart}})
   and update_time >= {{period_start}} and update_time < {{period_end}}
   and order_id not in (select order_id from {{hist}});

-- step: hook3_safety_check
insert into {{exceptions}} (order_id, exception_type, detected_at, notes)
select distinct m.order_id, 'ARCHIVE_ROUTING_GAP', current_timestamp,
       'update_time outside all defined hist_uti periods - excluded from trim'
  from {{mart}} m
 where m.update_time < (select coalesce(max(update_time), 0) - 15552000 from {{mart}})
   and not exists (select 1 from {{hist}} h where h.order_id = m.order_id)
   and not exists (select 1 from {{exceptions}} e
                    where e.order_id = m.order_id and e.exception_type = 'ARCHIVE_ROUTING_GAP'
                      and e.resolved_at is null);

-- step: hook4_trim
delete from {{mart}}
 where update_time < (select coalesce(max(update_time), 0) - 15552000 from {{mart}})
   and order_id not in (select order_id from {{exceptions}}
                         where exception_type = 'ARCHIVE_ROUTING_GAP' and resolved_at is null);
