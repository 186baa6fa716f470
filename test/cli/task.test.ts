/**
 * `order-tracking task <name>` (SPEC §7): each step alone, in the order an outside orchestrator
 * would call them, lands what `run` lands; a step whose inputs are not ready does nothing and says
 * so; a bad name is one line and exit 2. The monitor's cleanup prunes the ledger past its retention.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { pairs, type EnginePair } from '../support/engines.js';
import { seedOneOrder } from '../support/feed.js';

const NOW = Math.floor(Date.now() / 1000);
const DAY = 86_400;

const opened: EnginePair[] = [];
afterEach(async () => {
  for (let p = opened.pop(); p !== undefined; p = opened.pop()) await p.close();
});

const env = (p: EnginePair, now = NOW): Record<string, string> => ({
  ORDER_TRACKING_WAREHOUSE: p.warehouseUrl,
  ORDER_TRACKING_SOURCE: p.sourceUrl,
  ORDER_TRACKING_NOW: String(now),
});

const count = async (p: EnginePair, table: string): Promise<number> =>
  Number((await p.warehouse(`select count(*) as n from settlement_ods.${table}`))[0]?.n);

for (const pair of pairs)
  describe.skipIf(await pair.skip())(`task <name> on ${pair.name}`, () => {
    it('runs the cycle step by step as an orchestrator would, and a step with nothing new says so', async () => {
      const p = await pair.create();
      opened.push(p);
      await seedOneOrder(p, NOW, 2);
      expect((await cli(['init'], env(p))).code).toBe(0);

      const early = await cli(['task', 'mart_uti'], env(p));
      expect(early.code, early.stderr).toBe(0);
      expect(early.stdout.trim()).toBe(
        'run 1 skipped: mart_uti has nothing to apply: no validated batch of uni_tracking_info after the last it applied; run `task extract` first',
      );
      for (const name of ['check_drift', 'extract', 'mart_uti', 'mart_ecs', 'mart_uts', 'tests']) {
        const r = await cli(['task', name], env(p));
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/^run \d+ success in /);
      }
      expect(await count(p, 'mart_uni_tracking_info')).toBe(1);
      expect(await count(p, 'mart_ecs_order_info')).toBe(1);
      expect(await count(p, 'mart_uni_tracking_spath')).toBe(2);

      // Again: nothing new to apply or check; each says so and changes nothing.
      const again = await cli(['task', 'mart_uts'], env(p));
      expect(again.stdout).toMatch(/skipped: mart_uts has nothing to apply/);
      const tests = await cli(['task', 'tests'], env(p));
      expect(tests.stdout).toMatch(/skipped: tests have nothing to check/);

      const runs = await p.warehouse(
        'select run_id, kind, state, triggered_by from order_tracking_meta.runs order by run_id',
      );
      expect(runs.map((r) => [r.state, r.triggered_by])).toEqual([
        ['skipped', 'task'],
        ...Array.from({ length: 6 }, () => ['success', 'task']),
        ['skipped', 'task'],
        ['skipped', 'task'],
      ]);
      const steps = await p.warehouse(
        'select run_id, task from order_tracking_meta.task_instances order by run_id, task',
      );
      expect(steps.filter((s) => s.run_id === 3).map((s) => s.task)).toEqual([
        'calc_window',
        'check_drift',
        'extract',
        'validate',
      ]);

      const monitor = await cli(['task', 'monitor', '--json'], env(p));
      expect(monitor.code, monitor.stderr).toBe(0);
      const [last] = await p.warehouse(
        'select kind, triggered_by from order_tracking_meta.runs order by run_id desc limit 1',
      );
      expect(last).toEqual({ kind: 'monitor', triggered_by: 'task' });
    });

    it("prunes runs past the ledger's retention in the monitor's cleanup, keeping the rest", async () => {
      const p = await pair.create();
      opened.push(p);
      await seedOneOrder(p, NOW, 2);
      expect((await cli(['init'], env(p))).code).toBe(0);
      expect((await cli(['run'], env(p))).code).toBe(0);
      // 91 days later by the run's clock: run 1 started more than the default 90 days before.
      const later = await cli(['monitor', '--only', 'cleanup', '--json'], env(p, NOW + 91 * DAY));
      expect(later.code, later.stderr).toBe(0);
      expect(JSON.parse(later.stdout).steps[0].note).toMatch(/ledger: 1 runs past 90 days pruned$/);
      const runs = await p.warehouse('select run_id, kind from order_tracking_meta.runs order by run_id');
      expect(runs).toEqual([{ run_id: 2, kind: 'monitor' }]);
      const tasks = await p.warehouse('select distinct run_id from order_tracking_meta.task_instances');
      expect(tasks).toEqual([{ run_id: 2 }]);
    });
  });

describe('task <name> refuses a name that is not a task', () => {
  it('exits 2 with one line listing the tasks', async () => {
    const r = await cli(['task', 'mart_everything'], { ORDER_TRACKING_WAREHOUSE: 'duckdb::memory:' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'order-tracking: task "mart_everything" is not a task: use one of check_drift, extract, mart_uti, mart_ecs, mart_uts, tests, monitor',
    );
  });
});
