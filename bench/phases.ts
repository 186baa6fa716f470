/**
 * Where the bench's own time goes, per SF: every second is counted once, in the innermost phase
 * running (the reference's settling counts as settling, not as the reference).
 */
export const BENCH_PHASES = ['cycles', 'reference', 'copies', 'generation', 'settling', 'pgloader'] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

export const PHASE_TITLES: Readonly<Record<BenchPhase | 'other', string>> = {
  cycles: 'our cycles',
  reference: 'the reference and the floor',
  copies: 'copies, restores, VACUUM and drops',
  generation: 'generating the sources',
  settling: 'settling',
  pgloader: 'pgloader',
  other: 'the rest',
};

export interface PhaseClock {
  time<T>(phase: BenchPhase, fn: () => Promise<T>): Promise<T>;
  /** Seconds per phase so far; `other`: the rest of the time since the clock started. */
  seconds(): Record<BenchPhase | 'other', number>;
}

export const phaseClock = (now: () => number = () => performance.now()): PhaseClock => {
  const started = now();
  const totals = new Map<BenchPhase, number>();
  const running: BenchPhase[] = [];
  let mark = started;
  const charge = (): void => {
    const t = now();
    const phase = running.at(-1);
    if (phase) totals.set(phase, (totals.get(phase) ?? 0) + t - mark);
    mark = t;
  };
  return {
    async time(phase, fn) {
      charge();
      running.push(phase);
      try {
        return await fn();
      } finally {
        charge();
        running.pop();
      }
    },
    seconds() {
      charge();
      const out = Object.fromEntries(BENCH_PHASES.map((p) => [p, (totals.get(p) ?? 0) / 1000])) as Record<
        BenchPhase | 'other',
        number
      >;
      const counted = BENCH_PHASES.reduce((n, p) => n + out[p], 0);
      out.other = Math.max(0, (mark - started) / 1000 - counted);
      return out;
    },
  };
};
