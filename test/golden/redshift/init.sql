create schema if not exists "settlement_public";

create schema if not exists "settlement_ods";

create schema if not exists "order_tracking_meta";

create table if not exists "settlement_public"."uni_tracking_info_raw" (
  "id" bigint,
  "order_id" varchar(256),
  "status" varchar(128),
  "update_time" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle even compound sortkey("_batch_id");

create table if not exists "settlement_public"."ecs_order_info_raw" (
  "id" bigint,
  "order_id" varchar(256),
  "partner_id" integer,
  "add_time" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle even compound sortkey("_batch_id");

create table if not exists "settlement_public"."uni_tracking_spath_raw" (
  "id" bigint,
  "order_id" varchar(256),
  "traceseq" integer,
  "pathtime" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle even compound sortkey("_batch_id");

create table if not exists "settlement_ods"."mart_uni_tracking_info" (
  "id" bigint,
  "order_id" varchar(256),
  "status" varchar(128),
  "update_time" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle key distkey("order_id") compound sortkey("update_time", "order_id");

create table if not exists "settlement_ods"."mart_ecs_order_info" (
  "id" bigint,
  "order_id" varchar(256),
  "partner_id" integer,
  "add_time" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle key distkey("order_id") compound sortkey("partner_id", "add_time", "order_id");

create table if not exists "settlement_ods"."mart_uni_tracking_spath" (
  "id" bigint,
  "order_id" varchar(256),
  "traceseq" integer,
  "pathtime" integer,
  "_batch_id" bigint,
  "_loaded_at" timestamp
) diststyle key distkey("order_id") compound sortkey("pathtime", "order_id");

create table if not exists "settlement_ods"."order_tracking_exceptions" (
  "exception_id" bigint identity(1, 1),
  "order_id" varchar(256),
  "exception_type" varchar(256),
  "source_table" varchar(256),
  "source_id" bigint,
  "traceseq" integer,
  "pathtime" bigint,
  "event_time" bigint,
  "detected_at" timestamp,
  "resolved_at" timestamp,
  "notes" varchar(2048),
  "column_name" varchar(256)
) diststyle key distkey("order_id") compound sortkey("exception_type", "detected_at");

create table if not exists "order_tracking_meta"."runs" (
  "run_id" bigint,
  "kind" varchar(128),
  "state" varchar(64),
  "started_at" timestamp,
  "ended_at" timestamp,
  "error" varchar(65535),
  "summary" varchar(65535),
  "triggered_by" varchar(64)
);

create table if not exists "order_tracking_meta"."task_instances" (
  "run_id" bigint,
  "task" varchar(256),
  "state" varchar(64),
  "started_at" timestamp,
  "ended_at" timestamp,
  "seconds" double precision,
  "rows_read" bigint,
  "rows_written" bigint,
  "error" varchar(65535),
  "attempts" integer
);

create table if not exists "order_tracking_meta"."watermarks" (
  "table_name" varchar(256),
  "cursor_column" varchar(256),
  "value" bigint,
  "stray_id" bigint,
  "batch_id" bigint,
  "updated_at" timestamp
);

create table if not exists "order_tracking_meta"."batches" (
  "batch_id" bigint,
  "run_id" bigint,
  "table_name" varchar(256),
  "cursor_column" varchar(256),
  "window_from" bigint,
  "window_to" bigint,
  "source_count" bigint,
  "landed_count" bigint,
  "state" varchar(64),
  "created_at" timestamp
);

create table if not exists "order_tracking_meta"."mart_state" (
  "mart" varchar(128),
  "source_table" varchar(256),
  "batch_id" bigint,
  "updated_at" timestamp
);

create table if not exists "order_tracking_meta"."test_failures" (
  "run_id" bigint,
  "test" varchar(256),
  "severity" varchar(32),
  "order_id" varchar(256),
  "detail" varchar(65535),
  "detected_at" timestamp
);

create table if not exists "order_tracking_meta"."dq_results" (
  "run_id" bigint,
  "check_name" varchar(256),
  "failing" bigint,
  "sample" varchar(65535),
  "checked_at" timestamp
);

create table if not exists "order_tracking_meta"."schema_changes" (
  "run_id" bigint,
  "table_name" varchar(256),
  "column_name" varchar(256),
  "change" varchar(128),
  "column_type" varchar(256),
  "detected_at" timestamp
);
