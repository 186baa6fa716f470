/**
 * Prints a saved run's tables again, as `bench` printed them at its end, with today's report code:
 * `npx tsx scripts/bench-report.ts [.order-tracking/bench/results.json]`. A run of hours need not be
 * repeated to read it with a column added since; a run cut short (`complete: false`) prints what it
 * measured so far.
 */
import { readFileSync } from 'node:fs';
import { formatReport } from '../bench/report.js';
import type { BenchResult } from '../bench/results.js';

const file = process.argv[2] ?? '.order-tracking/bench/results.json';
let result: BenchResult;
try {
  result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
} catch (cause) {
  process.stderr.write(`bench-report: cannot read ${file}: ${(cause as Error).message}\n`);
  process.exit(1);
}
if (!Array.isArray(result.scales)) {
  process.stderr.write(`bench-report: ${file} is not a bench results file (no "scales")\n`);
  process.exit(1);
}
process.stdout.write(formatReport(result));
