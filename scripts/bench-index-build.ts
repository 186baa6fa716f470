/**
 * One design issue 22 asked to measure, outside the product: a large delta inserted into mart_uts
 * with its indexes kept up row by row (as the cycle does), against dropping them, inserting, and
 * building them in bulk (as the initial load does). Runs on a bench database after `bench`
 * (PostgreSQL), on copies: the mart's rows from before W2's batches, and W2's rows as the delta;
 * `--times 3` also stacks the history three times over (order ids suffixed) for SF 3's mart size.
 *
 *   npx tsx scripts/bench-index-build.ts postgres://postgres@127.0.0.1:5432/ot_bench [--times 3] [--mwm 1GB]
 *
 * `--mwm` sets the session's maintenance_work_mem for the index builds (stock: 64MB).
 */
import pg from 'pg';

const url = process.argv[2];
if (!url) throw new Error('usage: bench-index-build.ts postgres://… [--times N]');
const flag = (name: string): string | undefined =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const times = Number(flag('--times') ?? 1) || 1;
const mwm = flag('--mwm');
const client = new pg.Client({ connectionString: url });
await client.connect();
const q = (sql: string) => client.query(sql);
const timed = async (label: string, sql: string[]): Promise<number> => {
  const t = performance.now();
  for (const s of sql) await q(s);
  const s = (performance.now() - t) / 1000;
  console.log(`${label.padEnd(48)} ${s.toFixed(2)} s`);
  return s;
};
await q(`set work_mem = '256MB'`);
if (mwm) await q(`set maintenance_work_mem = '${mwm.replace(/[^\w]/g, '')}'`);
await q(`drop schema if exists bench_idx cascade`);
await q(`create schema bench_idx`);
const first = (
  await q(`select min(batch_id) as b from bench_meta.batches where table_name = 'uni_tracking_spath'
            and run_id = (select max(run_id) from bench_meta.batches where table_name = 'uni_tracking_spath')`)
).rows[0].b as number;
const cols = `id, order_id, traceseq, pathtime, scan_site, scan_type, remark, _batch_id, _loaded_at`;
const src = 'bench_ods.mart_uni_tracking_spath';
const copies = Array.from({ length: times }, (_, i) =>
  i === 0
    ? `select ${cols} from ${src} where _batch_id < ${first}`
    : `select id, order_id || '-${i}', traceseq, pathtime, scan_site, scan_type, remark, _batch_id, _loaded_at from ${src} where _batch_id < ${first}`,
).join(' union all ');
await q(
  `create table bench_idx.delta as select ${cols} from ${src} where _batch_id >= ${first} order by pathtime, order_id, traceseq`,
);
await q(`create table bench_idx.base as ${copies}`);
const n = async (t: string) => Number((await q(`select count(*) as n from bench_idx.${t}`)).rows[0].n);
console.log(`mart before: ${await n('base')} rows; delta: ${await n('delta')} rows (batches from ${first})`);
const indexes = (t: string) => [
  `create unique index on bench_idx.${t} (pathtime, order_id, traceseq)`,
  `create index on bench_idx.${t} (_batch_id)`,
];
const fresh = async (t: string) => {
  await q(`drop table if exists bench_idx.${t}`);
  await q(
    `create table bench_idx.${t} as select * from bench_idx.base order by pathtime, order_id, traceseq`,
  );
  for (const s of indexes(t)) await q(s);
  await q(`vacuum analyze bench_idx.${t}`);
};
const insert = (t: string) =>
  `insert into bench_idx.${t} select * from bench_idx.delta order by pathtime, order_id, traceseq`;
const results: { kept: number[]; rebuilt: number[] } = { kept: [], rebuilt: [] };
for (let rep = 0; rep < 3; rep++) {
  await fresh('m');
  await q('checkpoint');
  results.kept.push(await timed(`#${rep + 1} insert, indexes kept up`, ['begin', insert('m'), 'commit']));
  await fresh('m');
  await q('checkpoint');
  results.rebuilt.push(
    await timed(`#${rep + 1} drop indexes, insert, build them`, [
      'begin',
      `drop index bench_idx.m_pathtime_order_id_traceseq_idx`,
      `drop index bench_idx.m__batch_id_idx`,
      insert('m'),
      ...indexes('m'),
      'commit',
    ]),
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
console.log(
  `median: kept ${median(results.kept).toFixed(2)} s, rebuilt ${median(results.rebuilt).toFixed(2)} s`,
);
await q(`drop schema bench_idx cascade`);
await client.end();
