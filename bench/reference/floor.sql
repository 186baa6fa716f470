-- The floor: the least a mart step can do with the same input. The cycle's raw batches,
-- deduplicated by the product's version order, appended to a copy of the mart with a plain
-- INSERT … SELECT: no delete, no archive, no guards. Run once per mart, on the product's critical
-- path (mart_uti, then mart_ecs ∥ mart_uts). PostgreSQL's fastest deduplication: DISTINCT ON,
-- sorted in the mart's index order, so the insert walks its index once, as ours does.
--
-- {{mart}} {{raw}}: quoted relations; {{columns}}: the quoted column list; {{key}}: the mart's key
-- columns in index order; {{version}}: its version order (`… desc`); {{batch_from}} {{batch_to}}:
-- the cycle's batches.

-- step: insert
insert into {{mart}} ({{columns}})
select distinct on ({{key}}) {{columns}}
  from {{raw}}
 where _batch_id between {{batch_from}} and {{batch_to}} and order_id is not null
 order by {{key}}, {{version}};
