import { describe, expect, it } from 'vitest';
import { diskNeeds, diskShortfall } from '../../bench/disk.js';
import { formatReport, growthTable, median, spread, targetLines } from '../../bench/report.js';
import type { BenchResult, EngineResult, ScaleResult, WorkloadResult } from '../../bench/results.js';
import type { VariantResult } from '../../bench/reference.js';
import { parseReps, parseScaleFactors } from '../../src/cli/bench.js';

const workload = (
  name: WorkloadResult['workload'],
  rep: number,
  seconds: number,
  extra: Partial<WorkloadResult> = {},
): WorkloadResult => ({
  workload: name,
  rep,
  title: name,
  sourceRows: {},
  extracted: {},
  tasks: [
    { task: 'extract', state: 'success', seconds: seconds / 2 },
    { task: 'tests', state: 'success', seconds: 0.1 },
  ],
  seconds,
  extractRowsPerSecond: 0,
  martsSeconds: seconds / 4,
  martsAndTestsSeconds: seconds / 4 + 0.1,
  martRowsPerSecond: 0,
  startRssMb: 100,
  peakRssMb: 200,
  memoryAtPeak: { heapUsedMb: 1, externalMb: 1, nativeMb: 1 },
  slowestStatements: [],
  ...extra,
});

const variant = (name: VariantResult['variant'], marts: number, tests: number): VariantResult => ({
  variant: name,
  martRows: {},
  models: [],
  martsSeconds: marts,
  tests: { model: 'tests', seconds: tests, steps: [{ step: 'unique_mart_uts', seconds: tests, rows: 9975 }] },
  problems: { testFailures: { unique_mart_uts: 9975 }, rowsOverOurs: { mart_uts: 9975 } },
});

const engine = (e: EngineResult['engine'], workloads: WorkloadResult[]): EngineResult => ({
  engine: e,
  warehouse: 'w',
  source: 's',
  versions: [],
  workloads,
  loadedRows: {},
});

const scale = (sf: number, engines: EngineResult[]): ScaleResult => ({
  sf,
  historyEnd: '2026-03-01T00:00:00.000Z',
  historyDays: 183,
  generation: [],
  engines,
  settling: [],
  embeddedBytes: 0,
});

const bench = (scales: ScaleResult[]): BenchResult => ({
  complete: true,
  date: '2026-12-04T00:00:00.000Z',
  revision: 'abc',
  machine: { cpus: 2, cpuModel: 'x', memoryGb: 24, os: 'Linux', node: 'v20' },
  seed: 1,
  reps: 3,
  scales,
  processMaxRssMb: 100,
});

describe('the bench report', () => {
  it('takes the median of the repetitions, the middle two averaged for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('prints a median with its range, and one value without one', () => {
    expect(spread([1.5, 1.2, 2])).toBe('1.50 (1.20–2.00)');
    expect(spread([1.5])).toBe('1.50');
    expect(spread([])).toBe('');
  });

  it('shows how each step grows from the smallest SF to the largest, from medians', () => {
    const small = scale(0.1, [
      engine(
        'duckdb',
        [1, 2, 3].map((r) => workload('W1', r, 1 + r / 10)),
      ),
    ]);
    const large = scale(3, [
      engine(
        'duckdb',
        [1, 2, 3].map((r) => workload('W1', r, 2 + r / 10)),
      ),
    ]);
    const lines = growthTable(bench([small, large]));
    expect(lines[0]).toMatch(/SF 0\.1 .*SF 3 .*SF 3 ÷ SF 0\.1/);
    const whole = lines.find((l) => l.startsWith('| W1 whole run'));
    expect(whole).toContain('1.20 (1.10–1.30)');
    expect(whole).toContain('2.20 (2.10–2.30)');
    expect(whole).toContain('1.8×');
  });

  it('shows beside the times how many rows each batch applied to the order-driven marts', () => {
    const applied = (rows: number) => (r: number) =>
      workload('W1', r, 1, {
        tasks: [
          { task: 'mart_uti', state: 'success', seconds: 0.1, rows: rows + r },
          { task: 'mart_uts', state: 'success', seconds: 0.3, rows: 60_000 },
        ],
      });
    const lines = growthTable(
      bench([
        scale(0.1, [engine('postgres', [1, 2, 3].map(applied(2_300)))]),
        scale(3, [engine('postgres', [1, 2, 3].map(applied(17_000)))]),
      ]),
    );
    const uti = lines.find((l) => l.startsWith('| W1 mart_uti rows applied'));
    expect(uti).toContain('2,302 (2,301–2,303)');
    expect(uti).toContain('17,002 (17,001–17,003)');
    expect(uti).toContain('7.4×');
  });

  it("prints what the reference got wrong in one cycle, though W1's kept copies carry the cycles before", () => {
    const w1 = [1, 2, 3].map((r) =>
      workload('W1', r, 1, {
        reference: {
          workMem: '256MB',
          period: '2025_h2',
          variants: [
            {
              ...variant('plain', 1, 1),
              // Duplicates stay in the copies the next repetition starts from; rows over ours are per cycle.
              problems: { testFailures: { unique_mart_uts: 9975 * r }, rowsOverOurs: { mart_uts: -62_388 } },
            },
          ],
          floor: { model: 'floor', seconds: 0.4, steps: [] },
        },
      }),
    );
    const report = formatReport(bench([scale(1, [engine('postgres', w1.reverse())])]));
    expect(report).toContain(
      'reference index-less W1, what it got wrong in one cycle: unique_mart_uts 9,975; mart_uts -62,388 rows against ours',
    );
  });

  it('judges the targets: W1 growth, memory growth, W2 against both references and the floor', () => {
    const w1 = (sf: number, s: number, applied: number) =>
      [1, 2, 3].map((r) =>
        workload('W1', r, s, {
          peakRssMb: sf > 1 ? 300 : 200,
          tasks: [{ task: 'mart_uti', state: 'success', seconds: 0.1, rows: applied }],
        }),
      );
    const w2 = [1, 2, 3].map((r) =>
      workload('W2', r, 40, {
        martsSeconds: 10,
        martsAndTestsSeconds: 12,
        reference: {
          workMem: '256MB',
          period: '2025_h2',
          variants: [variant('plain', 20, 2), variant('indexed', 40, 2)],
          floor: { model: 'floor', seconds: 9, steps: [] },
        },
      }),
    );
    const lines = targetLines(
      bench([
        scale(0.1, [engine('postgres', w1(0.1, 1, 2_300))]),
        scale(1, [engine('postgres', w1(1, 1.4, 19_000))]),
        scale(3, [
          engine('postgres', [...w1(3, 1.5, 20_000), ...w2]),
          engine('duckdb', [
            ...w1(3, 1.5, 20_000),
            ...[1100, 1200, 1000].map((peakRssMb, i) =>
              workload('W2', i + 1, 40, {
                peakRssMb,
                memoryAtPeak: {
                  heapUsedMb: 50,
                  externalMb: 5,
                  nativeMb: peakRssMb - 60,
                  during: [
                    i === 1 ? 'insert into "ods"."mart_uts" ("id", "order_id"' : 'create temporary table',
                  ],
                },
              }),
            ),
          ]),
        ]),
      ]),
    );
    expect(lines).toContain(
      'PostgreSQL W1 whole cycle SF 0.1 → 3: 1.50× (target ≤ 1.3×: NOT met); mart_uti applies 2,300 → 20,000 rows',
    );
    // SF 0.1's batch reaches fewer orders: the growth is also read from the first SF with the same batch.
    expect(lines).toContain(
      'PostgreSQL W1 whole cycle SF 1 → 3: 1.07× (target ≤ 1.3×: met); mart_uti applies 19,000 → 20,000 rows (the same batch)',
    );
    expect(lines).toContain(
      'PostgreSQL W1 peak RSS SF 0.1 → 3: 200 MB → 300 MB, 1.50× (target ≤ 1.2×: NOT met)',
    );
    expect(lines).toContain(
      'SF 3 PostgreSQL W2 marts vs indexed reference: ours 4.00× faster (target ≥ 3× faster: met)',
    );
    expect(lines).toContain(
      'SF 3 PostgreSQL W2 marts vs index-less reference: ours 2.00× faster (target ≥ 1.5× faster: met)',
    );
    expect(lines).toContain(
      'SF 3 PostgreSQL W2 marts + tests vs index-less reference: ours 1.83× faster (target ≥ 1.5× faster: met)',
    );
    expect(lines).toContain('SF 3 PostgreSQL W2 marts ÷ floor: 1.11× (target ≤ 1.2×: met)');
    // The peak names its workload and what ran at the highest sample of its highest repetition.
    expect(lines).toContain(
      'DuckDB peak RSS at SF 3 (the highest workload median): 1.07 GB, W2, during insert into "ods"."mart_uts" (target < 1 GB: NOT met)',
    );
  });
});

describe('bench flags', () => {
  it('runs several scale factors once each, smallest first', () => {
    expect(parseScaleFactors('1, 0.1,3,1')).toEqual([0.1, 1, 3]);
  });

  it('names a bad scale factor or repetition count in one line', () => {
    expect(() => parseScaleFactors('0.1,,1')).toThrow('--sf "0.1,,1" has an empty entry (use e.g. 0.1,1,3)');
    expect(() => parseScaleFactors('0.1,x')).toThrow(
      '--sf "x" is not a number greater than 0 and at most 10',
    );
    expect(() => parseScaleFactors('20')).toThrow('--sf "20" is not a number greater than 0 and at most 10');
    expect(() => parseReps('0')).toThrow('--reps "0" is not a whole number from 1 to 9');
    expect(() => parseReps('2.5')).toThrow('--reps "2.5" is not a whole number from 1 to 9');
    expect(parseReps('3')).toBe(3);
  });
});

describe('the bench disk check', () => {
  const GB = 1024 ** 3;
  it('refuses, in one line, a disk that cannot hold what every place on it needs together', () => {
    const need = diskNeeds(3);
    const places = [
      { what: 'PostgreSQL', path: '/var/lib/postgresql', bytes: need.postgres },
      { what: 'MySQL', path: '/var/lib/mysql', bytes: need.mysql },
    ];
    expect(diskShortfall(3, [{ free: 40 * GB, places }])).toBe(
      'bench: SF 3 needs about 52 GB free (PostgreSQL 46 GB in /var/lib/postgresql, MySQL 6 GB in /var/lib/mysql); that disk has 40 GB',
    );
    expect(diskShortfall(3, [{ free: 80 * GB, places }])).toBeNull();
    expect(
      diskShortfall(3, [
        { free: 47 * GB, places: places.slice(0, 1) },
        { free: 7 * GB, places: places.slice(1) },
      ]),
    ).toBeNull();
  });
});
