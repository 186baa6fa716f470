select "schema" as table_schema, "table" as table_name, unsorted, stats_off
  from svv_table_info
 where ("schema" = $1 and "table" = $2) or ("schema" = $3 and "table" = $4) or ("schema" = $5 and "table" = $6) or ("schema" = $7 and "table" = $8) or ("schema" = $9 and "table" = $10);
-- params: ["settlement_ods","mart_uni_tracking_info","settlement_ods","mart_ecs_order_info","settlement_ods","mart_uni_tracking_spath","settlement_ods","hist_uni_tracking_info_2025_h2","settlement_ods","order_tracking_exceptions"]

-- mart_uti: daily
vacuum delete only "settlement_ods"."mart_uni_tracking_info";

-- mart_ecs: Sundays
vacuum delete only "settlement_ods"."mart_ecs_order_info";

-- mart_ecs: 20 % unsorted (above 15)
vacuum sort only "settlement_ods"."mart_ecs_order_info";

-- mart_uts: daily
vacuum delete only "settlement_ods"."mart_uni_tracking_spath";

-- hist: stats_off 35 (above 10)
analyze "settlement_ods"."hist_uni_tracking_info_2025_h2";
