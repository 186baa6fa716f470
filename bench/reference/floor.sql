-- The floor: the least a mart step can do with the same input. The cycle's raw batches,
-- deduplicated by the product's version order, appended to a copy of the mart with a plain
-- INSERT … SELECT: no delete, no archive, no guards. Run once per mart.
--
-- {{mart}} {{raw}}: quoted relations; {{columns}}: the quoted column list; {{key}}: the mart's key
-- columns; {{version}}: its version order (`… desc`); {{batch_from}} {{batch_to}}: the cycle's batches.

-- step: insert
insert into {{mart}} ({{columns}})
select {{columns}} from (
  select {{columns}}, row_number() over (partition by {{key}} order by {{version}}) as _rn
    from {{raw}}
   where _batch_id between {{batch_from}} and {{batch_to}} and order_id is not null
) deduplicated
where _rn = 1;
