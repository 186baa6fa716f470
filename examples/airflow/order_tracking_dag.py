"""Airflow 2 (>= 2.6) DAGs driving order-tracking one task at a time.

Each task runs `order-tracking task <name>` under the pipeline's lease, so these DAGs can share a
warehouse with `order-tracking serve`, a Kubernetes CronJob or a manual run without two cycles ever
overlapping. Dependencies are the ones of the DAG this replaces:
check_drift >> extract >> mart_uti >> [mart_ecs, mart_uts] >> tests (`extract` includes
calc_window and validate).

Secrets never live in this file: the warehouse and source URLs are rendered at run time from the
Airflow connections `order_tracking_warehouse` (conn type postgres or redshift) and
`order_tracking_source` (conn type mysql); Airflow masks their passwords in logs and rendered
fields. Anything else (ORDER_TRACKING_CONFIG, ORDER_TRACKING_ALERT_WEBHOOK, PATH) is inherited
from the worker's environment.
"""

import os
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

# The command that runs the CLI on the worker, e.g. /opt/order-tracking/node_modules/.bin/order-tracking.
# `npx --no` never downloads a package: it only runs one installed in the working directory.
ORDER_TRACKING_BIN = os.environ.get("ORDER_TRACKING_BIN", "npx --no order-tracking")

# Exit code 75 (EX_TEMPFAIL) means another process (serve, a CronJob, a manual run) holds the
# pipeline's lease: nothing was changed and the next slot will try again. That is not a failure, so
# the task is marked skipped instead of failed (no alert, no retry), and its downstream tasks are
# skipped with it (default trigger rule all_success): no mart runs on a cycle this DAG did not extract.
LEASE_HELD = 75

default_args = {
    "owner": "data-platform",
    # The CLI retries transient errors itself (with backoff); an Airflow retry would only repeat a
    # real failure.
    "retries": 0,
    # Backstop only: the CLI enforces its own per-task timeouts (exit 124) and cancels the running SQL
    # on the server; on this timeout Airflow sends SIGTERM and the CLI releases the lease within 20 s.
    "execution_timeout": timedelta(minutes=65),
}

ENV = {
    "ORDER_TRACKING_WAREHOUSE": "{{ conn.order_tracking_warehouse.get_uri() }}",
    "ORDER_TRACKING_SOURCE": "{{ conn.order_tracking_source.get_uri() }}",
}


def order_tracking_task(name: str) -> BashOperator:
    return BashOperator(
        task_id=name,
        bash_command=f"{ORDER_TRACKING_BIN} task {name}",
        env=ENV,
        append_env=True,
        skip_on_exit_code=LEASE_HELD,
    )


with DAG(
    dag_id="order_tracking_cycle",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["order-tracking"],
):
    check_drift = order_tracking_task("check_drift")
    extract = order_tracking_task("extract")
    mart_uti = order_tracking_task("mart_uti")
    mart_ecs = order_tracking_task("mart_ecs")
    mart_uts = order_tracking_task("mart_uts")
    tests = order_tracking_task("tests")

    check_drift >> extract >> mart_uti >> [mart_ecs, mart_uts] >> tests


with DAG(
    dag_id="order_tracking_daily_monitoring",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # The monitor run (DQ, maintenance, raw cleanup) may take hours; the CLI's own limit is 6 h.
    default_args={**default_args, "execution_timeout": timedelta(hours=6, minutes=5)},
    tags=["order-tracking"],
):
    order_tracking_task("monitor")
