-- The full-table data tests as `dbt test --select mart --store-failures` compiles them: each test's
-- failing rows are materialized in the audit schema (the row count is the number of failures).
-- The same set as the product's tests task: unique and not_null keys, mart_uts -> mart_uti.
--
-- {{audit}}: quoted audit schema; {{uti}} {{ecs}} {{uts}}: quoted mart relations.

-- step: unique_mart_uti
create table {{audit}}.unique_mart_uti as (
  select unique_field, count(*) as n_records
    from (select order_id as unique_field from {{uti}} where order_id is not null) dbt_subquery
   group by unique_field
  having count(*) > 1
);

-- step: not_null_mart_uti
create table {{audit}}.not_null_mart_uti as (
  select order_id from {{uti}} where order_id is null
);

-- step: unique_mart_ecs
create table {{audit}}.unique_mart_ecs as (
  select unique_field, count(*) as n_records
    from (select order_id as unique_field from {{ecs}} where order_id is not null) dbt_subquery
   group by unique_field
  having count(*) > 1
);

-- step: not_null_mart_ecs
create table {{audit}}.not_null_mart_ecs as (
  select order_id from {{ecs}} where order_id is null
);

-- step: unique_mart_uts
-- dbt_utils.unique_combination_of_columns over the composite key.
create table {{audit}}.unique_mart_uts as (
  with validation_errors as (
    select order_id, traceseq, pathtime from {{uts}}
     group by order_id, traceseq, pathtime
    having count(*) > 1
  )
  select * from validation_errors
);

-- step: not_null_mart_uts
create table {{audit}}.not_null_mart_uts as (
  select order_id, traceseq, pathtime from {{uts}}
   where order_id is null or traceseq is null or pathtime is null
);

-- step: relationship_mart_uts_mart_uti
create table {{audit}}.relationship_mart_uts_mart_uti as (
  with child as (select order_id as from_field from {{uts}} where order_id is not null),
  parent as (select order_id as to_field from {{uti}})
  select from_field from child
    left join parent on child.from_field = parent.to_field
   where parent.to_field is null
);
