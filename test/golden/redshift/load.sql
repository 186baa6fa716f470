copy "settlement_public"."uni_tracking_info_raw" ("id", "order_id", "status", "update_time", "_batch_id")
  from 's3://acme-staging/order-tracking/run-7/batch-42/uni_tracking_info_raw/'
  iam_role 'arn:aws:iam::123456789012:role/ot-copy'
  format as csv gzip null as '\\N' timeformat 'auto' dateformat 'auto' region 'eu-west-1'
  compupdate off statupdate off;

copy "settlement_public"."uni_tracking_info_raw" ("id", "order_id", "status", "update_time", "_batch_id")
  from 's3://acme-staging/order-tracking/run-7/batch-42/uni_tracking_info_raw/'
  access_key_id '***' secret_access_key '***'
  format as csv gzip null as '\\N' timeformat 'auto' dateformat 'auto' region 'eu-west-1'
  compupdate off statupdate off;

insert into "settlement_public"."uni_tracking_info_raw" ("id", "order_id", "status", "update_time", "_batch_id") values
(1, 'o-1', 'it''s', 1700000000, 42),
(2, null, 'back' || chr(92) || 'slash', 1700000060, 42);
