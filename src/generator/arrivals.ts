/**
 * When new orders arrive. Each day's arrivals come from their own seeded stream, so they can be
 * looked at (counted) ahead of time without disturbing any other random choice.
 */
import { createRandom, deriveSeed } from './prng.js';

const DAY = 86_400;

/** Sorted arrival times (epoch seconds) of day `day` (0-based from `start`), cut at `end`. */
export function arrivalsOfDay(
  seed: number,
  start: number,
  end: number,
  ordersPerDay: number,
  day: number,
): number[] {
  const dayStart = start + day * DAY;
  if (dayStart >= end) return [];
  const random = createRandom(deriveSeed(seed, 0xa771, day));
  // ±10 % day-to-day variation around the mean; fractional means round up with their remainder.
  const count = Math.floor(ordersPerDay * random.between(0.9, 1.1) + random.next());
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = dayStart + Math.floor(random.next() * DAY);
    if (at < end) times.push(at);
  }
  return times.sort((a, b) => a - b);
}

/** Walks the arrivals in time order, one day in memory at a time. */
export class ArrivalStream {
  private day = -1;
  private times: number[] = [];
  private index = 0;

  private readonly seed: number;
  private readonly start: number;
  private readonly end: number;
  private readonly ordersPerDay: number;

  constructor(seed: number, start: number, end: number, ordersPerDay: number) {
    this.seed = seed;
    this.start = start;
    this.end = end;
    this.ordersPerDay = ordersPerDay;
  }

  /** Time of the next arrival, or +Infinity when no order arrives any more. */
  peek(): number {
    while (this.index >= this.times.length) {
      if (this.start + (this.day + 1) * DAY >= this.end) return Number.POSITIVE_INFINITY;
      this.day++;
      this.times = arrivalsOfDay(this.seed, this.start, this.end, this.ordersPerDay, this.day);
      this.index = 0;
    }
    return this.times[this.index] as number;
  }

  /** Consumes the arrival returned by `peek()`. */
  shift(): void {
    this.index++;
  }

  /** Arrivals with time in [from, to] not consumed yet. */
  countBetween(from: number, to: number): number {
    let n = 0;
    const first = Math.max(0, Math.floor((from - this.start) / DAY));
    const last = Math.floor((to - this.start) / DAY);
    for (let day = first; day <= last; day++) {
      const times =
        day === this.day
          ? this.times.slice(this.index)
          : day < this.day
            ? []
            : arrivalsOfDay(this.seed, this.start, this.end, this.ordersPerDay, day);
      for (const at of times) if (at >= from && at <= to) n++;
    }
    return n;
  }
}
