/**
 * Golden files for the statements only the Redshift engine sends, beside the marts', tests' and
 * data-quality checks' (mart-sql.golden, dq-sql.golden): the DDL of `init` with the seed's layouts,
 * the lease, both load paths, maintenance, the exceptions ledger, the monitor's cleanup and
 * reconcile, and status. `test/unit/redshift-parse.test.ts` parses every one of them as Redshift SQL.
 */
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/settings.js';
import type { Column, Row } from '../../src/engines/types.js';
import {
  redshiftCapabilities,
  redshiftDialect,
} from '../../src/engines/warehouse/redshift/redshift-dialect.js';
import { insertRows } from '../../src/engines/warehouse/redshift/redshift-insert.js';
import { leaseStatements, leaseTableSql } from '../../src/engines/warehouse/redshift/redshift-lease.js';
import {
  redshiftMaintenancePlan,
  redshiftTableInfoQuery,
} from '../../src/engines/warehouse/redshift/redshift-maintenance.js';
import {
  copyStatement,
  copyStatementForDisplay,
} from '../../src/engines/warehouse/redshift/redshift-copy.js';
import type { MaintenanceTarget } from '../../src/engines/warehouse/warehouse.js';
import {
  planCountExceptions,
  planListExceptions,
  planOpenFutureRows,
  planOpenQuarantined,
  planResolveExceptions,
} from '../../src/pipeline/exceptions.js';
import { planInit } from '../../src/pipeline/init.js';
import { renderStatement } from '../../src/pipeline/mart-sql/render.js';
import { mart } from '../../src/pipeline/marts.js';
import {
  planDeleteBatch,
  planDeleteRepeats,
  planExpiredBatches,
} from '../../src/pipeline/monitor/cleanup-sql.js';
import { planWarehouseDayCounts, planWarehouseNullKeys } from '../../src/pipeline/monitor/reconcile-sql.js';
import { stmt } from '../../src/pipeline/statement.js';
import { planRecentRuns, planRowCounts } from '../../src/pipeline/status/sql.js';
import type { SourceTableName } from '../../src/pipeline/tables.js';

const d = redshiftDialect;
const settings = resolveSettings({ warehouse: 'redshift://u@h:5439/db' }, {});
const { schemas } = settings;

const c = (name: string, kind: 'bigint' | 'integer'): Column => ({ name, sourceName: name, type: { kind } });
const v = (name: string, length: number): Column => ({
  name,
  sourceName: name,
  type: { kind: 'varchar', length },
});
const sourceColumns = new Map<SourceTableName, Column[]>([
  ['uni_tracking_info', [c('id', 'bigint'), v('order_id', 64), v('status', 32), c('update_time', 'integer')]],
  [
    'ecs_order_info',
    [c('id', 'bigint'), v('order_id', 64), c('partner_id', 'integer'), c('add_time', 'integer')],
  ],
  [
    'uni_tracking_spath',
    [c('id', 'bigint'), v('order_id', 64), c('traceseq', 'integer'), c('pathtime', 'integer')],
  ],
]);
const text = (statements: readonly string[]): string => `${statements.map((s) => `${s};`).join('\n\n')}\n`;

describe('Redshift-only SQL', () => {
  it('pins init: schemas, tables with DISTKEY and the seed sort keys, the IDENTITY ledger, no sequence', async () => {
    await expect(text(planInit(d, settings, sourceColumns))).toMatchFileSnapshot(
      '../golden/redshift/init.sql',
    );
  });

  it('pins the lease: its table, and LOCK before every read and write of it', async () => {
    const s = leaseStatements(schemas.meta);
    await expect(
      text([
        ...leaseTableSql(schemas.meta),
        s.self,
        'begin',
        s.lock,
        s.holder,
        s.alive,
        s.clear,
        s.take,
        'commit',
        s.release,
      ]),
    ).toMatchFileSnapshot('../golden/redshift/lease.sql');
  });

  it('pins both load paths: COPY from S3 (IAM role, or keys shown masked) and a multi-row INSERT', async () => {
    const columns = [...(sourceColumns.get('uni_tracking_info') ?? []), c('_batch_id', 'bigint')];
    const staging = { bucket: 'acme-staging', prefix: 'order-tracking', region: 'eu-west-1' };
    const prefix = 'order-tracking/run-7/batch-42/uni_tracking_info_raw';
    const sent: string[] = [];
    const rows = async function* (): AsyncGenerator<readonly Row[]> {
      yield [
        [1, 'o-1', "it's", 1_700_000_000, 42],
        [2, null, 'back\\slash', 1_700_000_060, 42],
      ];
    };
    await insertRows(
      { execute: async (sql) => (sent.push(sql), 2) },
      redshiftCapabilities,
      schemas.raw,
      'uni_tracking_info_raw',
      columns,
      rows(),
    );
    await expect(
      text([
        copyStatement(
          schemas.raw,
          'uni_tracking_info_raw',
          columns,
          { ...staging, iamRole: 'arn:aws:iam::123456789012:role/ot-copy' },
          prefix,
        ),
        copyStatementForDisplay(schemas.raw, 'uni_tracking_info_raw', columns, staging, prefix, {
          accessKeyId: 'AKIAEXAMPLE',
          secretAccessKey: 'never-shown',
        }),
        ...sent,
      ]),
    ).toMatchFileSnapshot('../golden/redshift/load.sql');
  });

  it('pins maintenance: the query of svv_table_info and the seed rules on a Sunday with mart_ecs 20 % unsorted', async () => {
    const targets: MaintenanceTarget[] = [
      ...(['mart_uti', 'mart_ecs', 'mart_uts'] as const).map((m) => ({
        schema: schemas.mart,
        table: mart(m).table,
        role: 'mart' as const,
        mart: m,
      })),
      { schema: schemas.mart, table: 'hist_uni_tracking_info_2025_h2', role: 'hist' },
      { schema: schemas.mart, table: 'order_tracking_exceptions', role: 'ledger' },
    ];
    const info = new Map([
      [`${schemas.mart}.mart_ecs_order_info`, { unsorted: 20, statsOff: 0 }],
      [`${schemas.mart}.hist_uni_tracking_info_2025_h2`, { unsorted: 0, statsOff: 35 }],
    ]);
    const sunday = 0;
    const { sql, params } = redshiftTableInfoQuery(targets);
    await expect(
      [
        renderStatement(stmt(sql, params)),
        ...redshiftMaintenancePlan(targets, sunday, info).map((step) => `-- ${step.reason}\n${step.sql};`),
      ].join('\n\n') + '\n',
    ).toMatchFileSnapshot('../golden/redshift/maintenance.sql');
  });

  it('pins the exceptions ledger: list, count, resolve, and the exceptions extract opens', async () => {
    const filter = { type: 'FUTURE_TIMESTAMP', orderId: 'o-1', openOnly: true };
    await expect(
      [
        planListExceptions(d, schemas, filter, 50),
        planCountExceptions(d, schemas, filter),
        planResolveExceptions(d, schemas, { ids: [3, 4] }, 'fixed in the source'),
        planOpenFutureRows(d, schemas, 'uni_tracking_info', 'update_time', [[9, 'o-9', 'x', 1_900_000_000]]),
        planOpenQuarantined(d, schemas, 'uni_tracking_spath', 42, [
          { type: 'BAD_VALUE', column: 'order_id', id: '17', reason: '300 bytes, more than varchar(256)' },
        ]),
      ]
        .map(renderStatement)
        .join('\n\n') + '\n',
    ).toMatchFileSnapshot('../golden/redshift/exceptions.sql');
  });

  it("pins the monitor's raw cleanup and reconcile counts", async () => {
    const uts = mart('mart_uts');
    const span = { from: 1_780_000_000 - 7 * 86_400, to: 1_780_000_000 };
    await expect(
      [
        planExpiredBatches(d, schemas, 'uni_tracking_spath', 'mart_uts', '2026-05-21 00:00:00'),
        planDeleteBatch(d, schemas, 'uni_tracking_spath', 40, false),
        planDeleteBatch(d, schemas, 'uni_tracking_spath', 40, true),
        planDeleteRepeats(
          d,
          schemas,
          'uni_tracking_spath',
          ['order_id', 'traceseq', 'pathtime'],
          {
            batchId: 41,
            cursorColumn: 'id',
            windowFrom: 1_000n,
          },
          [39, 40],
        ),
        planWarehouseDayCounts(d, schemas, uts, ['hist_uni_tracking_spath_2025_h2'], span),
        planWarehouseNullKeys(d, schemas, uts, span),
      ]
        .map(renderStatement)
        .join('\n\n') + '\n',
    ).toMatchFileSnapshot('../golden/redshift/monitor.sql');
  });

  it('pins what status reads: recent runs, row estimates from svv_table_info, counts', async () => {
    const tables = [
      { schema: schemas.mart, table: 'mart_uni_tracking_info' },
      { schema: schemas.raw, table: 'uni_tracking_info_raw' },
    ];
    const estimates = d.rowEstimates(tables);
    await expect(
      [
        planRecentRuns(d, schemas),
        ...(estimates ? [stmt(estimates.sql, estimates.params)] : []),
        planRowCounts(d, tables),
      ]
        .map(renderStatement)
        .join('\n\n') + '\n',
    ).toMatchFileSnapshot('../golden/redshift/status.sql');
  });
});
