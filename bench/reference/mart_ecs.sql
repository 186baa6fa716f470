-- mart_ecs_order_info as the seed deploys it: incremental delete+insert on order_id, then its two
-- post-hooks (archive orders absent from mart_uti, then trim them with a DELETE USING anti-join).
--
-- {{mart}} {{uti}} {{hist}} {{raw}} {{tmp}}: quoted relations; {{columns}}: the quoted column list;
-- {{batch_from}} {{batch_to}}: the raw batches of the cycle; {{period_start}} {{period_end}}: epoch
-- seconds of the current hist period.

-- step: model
create temporary table {{tmp}} as (
  with filtered as (
    select {{columns}} from {{raw}}
     where _batch_id between {{batch_from}} and {{batch_to}}
  ),
  ranked as (
    select {{columns}}, row_number() over (partition by order_id order by add_time desc, id desc) as _rn
      from filtered
  )
  select {{columns}} from ranked where _rn = 1
);

-- step: delete
delete from {{mart}} where (order_id) in (select (order_id) from {{tmp}});

-- step: insert
insert into {{mart}} ({{columns}}) (select {{columns}} from {{tmp}});

-- step: hook1_archive
insert into {{hist}}
select ecs.* from {{mart}} ecs
  left join {{uti}} uti on ecs.order_id = uti.order_id
 where uti.order_id is null
   and ecs.add_time >= {{period_start}} and ecs.add_time < {{period_end}}
   and ecs.order_id not in (select order_id from {{hist}});

-- step: hook2_trim
delete from {{mart}}
 using (select ecs.order_id from {{mart}} ecs
          left join {{uti}} uti on ecs.order_id = uti.order_id
         where uti.order_id is null) to_trim
 where {{mart}}.order_id = to_trim.order_id;
