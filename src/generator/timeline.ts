/**
 * The synthetic source as a state machine: orders arrive, get tracking updates and scans, finish,
 * and sometimes come back months later. Only in-flight and dormant orders are kept in memory; every
 * write is handed to a `SourceWriter` in chunks, in commit (`at`) order.
 */
import { ArrivalStream } from './arrivals.js';
import { EventQueue } from './event-queue.js';
import { type LoadTarget, type GeneratorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { createRandom, deriveSeed, type Random } from './prng.js';
import type { OrderRow, ScanRow, TrackingRow, WriteChunk } from './rows.js';
import {
  type GeneratorSummary,
  type WindowCounts,
  countsBetween,
  emptySummary,
  snapshotSummary,
} from './summary.js';
import {
  CARRIERS,
  CUSTOMER_NAMES,
  DESTINATIONS,
  LOCATIONS,
  MIDDLE_STATUSES,
  SCAN_REMARKS,
  SCAN_SITES,
  SCAN_TYPES,
  STATUS,
} from './vocabulary.js';
import type { SourceWriter } from './writers/source-writer.js';

const HOUR = 3_600;
const DAY = 86_400;

/** Orders in memory and writes scheduled but not yet applied. */
export interface PendingState {
  /** In-flight and dormant orders. */
  readonly orders: number;
  /** Scheduled tracking updates and late scan uploads. */
  readonly scheduled: number;
}

export interface SourceGenerator {
  readonly options: ResolvedOptions;
  /** First simulated second. */
  readonly start: number;
  /** No new orders arrive at or after `end` (= start + days); in-flight orders keep evolving. */
  readonly end: number;
  /** Every write with `at` <= `now` has been applied. */
  readonly now: number;
  /** Totals since the start. */
  readonly summary: GeneratorSummary;
  readonly pending: PendingState;
  /**
   * Applies every write with `at` <= `t`, in `at` order, one `writer.apply` per chunk of
   * `chunkRows` rows, and sets `now` to `t`.
   *
   * With `load`, extra new orders and extra tracking updates (on random in-flight orders) are spread
   * over (`now`, `t`] so the window holds at least `load.newOrders` new orders and
   * `load.trackingUpdates` tracking writes; extra updates carry `load.scanEvents /
   * load.trackingUpdates` scans on average.
   */
  advanceTo(writer: SourceWriter, t: number, load?: LoadTarget): Promise<WindowCounts>;
}

/** Creates a generator; nothing is written until `advanceTo`. */
export function createGenerator(options: GeneratorOptions): SourceGenerator {
  return new Timeline(resolveOptions(options));
}

/** A uni_tracking_info row as the generator keeps it; written out as a frozen copy. */
interface LiveTracking {
  readonly id: number;
  readonly order_id: string | null;
  readonly tracking_no: string;
  readonly carrier: string;
  status: string;
  location: string;
  update_time: number;
}

type Lifecycle = 'normal' | 'long' | 'reactivated';

/** Active: first delivery; dormant: delivered, waiting to come back; returning: after reactivation. */
type Phase = 'active' | 'dormant' | 'returning';

/**
 * relabel: a new row (new tracking number) takes over, the old one stays as it was;
 * tie: a second row written with every update of the first, so both share `update_time`.
 */
type Duplicate = 'none' | 'relabel' | 'tie';

interface Order {
  readonly no: number;
  readonly orderId: string;
  readonly carrier: number;
  readonly lifecycle: Lifecycle;
  readonly duplicate: Duplicate;
  /** Update index (within the active phase) at which the duplicate row appears. */
  readonly duplicateAt: number;
  /** Rows that receive the next update (one, or two for ties). */
  rows: LiveTracking[];
  traceSeq: number;
  phase: Phase;
  done: number;
  planned: number;
  /** `at` of the last update of the current phase. */
  endAt: number;
  /** Position in `Timeline.live`, -1 when not receiving updates. */
  live: number;
}

type Action =
  | { readonly kind: 'track'; readonly at: number; readonly order: Order }
  | { readonly kind: 'upload'; readonly at: number; readonly scan: Omit<ScanRow, 'id'> }
  | { readonly kind: 'extra-order'; readonly at: number }
  | { readonly kind: 'extra-update'; readonly at: number; readonly scansPerUpdate: number };

class ChunkBuilder {
  ecs: OrderRow[] = [];
  uti = new Map<number, TrackingRow>();
  spath: ScanRow[] = [];
  fromAt = Number.POSITIVE_INFINITY;
  toAt = Number.NEGATIVE_INFINITY;

  get rows(): number {
    return this.ecs.length + this.uti.size + this.spath.length;
  }

  touch(at: number): void {
    if (at < this.fromAt) this.fromAt = at;
    if (at > this.toAt) this.toAt = at;
  }

  take(): WriteChunk {
    const chunk: WriteChunk = {
      fromAt: this.fromAt,
      toAt: this.toAt,
      ecs_order_info: this.ecs,
      uni_tracking_info: [...this.uti.values()],
      uni_tracking_spath: this.spath,
    };
    this.ecs = [];
    this.uti = new Map();
    this.spath = [];
    this.fromAt = Number.POSITIVE_INFINITY;
    this.toAt = Number.NEGATIVE_INFINITY;
    return chunk;
  }
}

// The shapes the pipeline must cope with (SPEC §3–§5, §9): an ecs row hours before the first scan
// (mart_ecs keeps orders whose tracking has not started), most orders done in 3–15 days, long ones
// spanning 7–9 months (older than the 180-day window while still active), reactivated ones silent
// for 8 or 14 months (so their rows were archived, possibly in an older half-year table).
const FIRST_TRACKING_DELAY: readonly [number, number] = [1 * HOUR, 8 * HOUR];
const NORMAL_DURATION: readonly [number, number] = [3 * DAY, 15 * DAY];
const LONG_DURATION: readonly [number, number] = [213 * DAY, 270 * DAY]; // 7–9 months of 30.44 days
const DORMANCY_SHORT = 245 * DAY; // > 8 months of 30.44 days
const DORMANCY_LONG = 427 * DAY; // > 14 months
const RETURN_DURATION: readonly [number, number] = [1 * DAY, 4 * DAY];
const LATE_UPLOAD: readonly [number, number] = [1 * HOUR, 6 * HOUR];
const FUTURE_SKEW: readonly [number, number] = [2 * DAY, 4 * DAY];
const MIN_GAP = 60;
const PARTNERS = 300;
/** Draws for an order the window has not updated (extra updates); past that, a repeat is taken. */
const FRESH_DRAWS = 32;

class Timeline implements SourceGenerator {
  readonly start: number;
  readonly end: number;
  private clock: number;
  private readonly random: Random;
  private readonly arrivals: ArrivalStream;
  private readonly queue = new EventQueue<Action>();
  /** Orders receiving updates (tracking started, not finished, not dormant). */
  private readonly live: Order[] = [];
  /** During a window with a load target: the orders it has updated so far. */
  private updated: Set<Order> | null = null;
  private readonly counters = emptySummary();
  private readonly chunk = new ChunkBuilder();
  private ordersInMemory = 0;
  private lastOrderNo = 0;
  private readonly lastId = { ecs: 0, uti: 0, spath: 0 };
  private busy = false;
  /** Set when a write failed: the writes of that chunk are lost, so the state no longer matches. */
  private failed: unknown = undefined;

  readonly options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.start = options.start;
    this.end = Math.round(options.start + options.days * DAY);
    this.clock = options.start;
    this.random = createRandom(deriveSeed(options.seed, 0x71e));
    this.arrivals = new ArrivalStream(options.seed, this.start, this.end, options.ordersPerDay);
  }

  get now(): number {
    return this.clock;
  }

  get summary(): GeneratorSummary {
    return snapshotSummary(this.counters);
  }

  get pending(): PendingState {
    return { orders: this.ordersInMemory, scheduled: this.queue.size };
  }

  async advanceTo(writer: SourceWriter, t: number, load?: LoadTarget): Promise<WindowCounts> {
    if (this.busy) {
      throw new Error('generator.advanceTo is already running: await the previous call first');
    }
    if (this.failed !== undefined) {
      throw new Error(
        'generator.advanceTo after a failed write: the source misses that chunk; ' +
          'start again with a new generator and an empty source',
        { cause: this.failed },
      );
    }
    if (!Number.isFinite(t) || t < this.clock) {
      throw new Error(
        `generator.advanceTo(${String(t)}) would go back in time: the generator is at ${this.clock}`,
      );
    }
    this.busy = true;
    this.updated = load !== undefined ? new Set() : null;
    try {
      const before = snapshotSummary(this.counters);
      if (load !== undefined) this.scheduleExtraLoad(Math.floor(t), load);
      let chunks = 0;
      for (;;) {
        const arrival = this.arrivals.peek();
        const action = this.queue.peekAt();
        if (arrival > t && action > t) break;
        if (arrival <= action) {
          this.arrivals.shift();
          this.createOrder(arrival);
        } else {
          this.run(this.queue.pop() as Action);
        }
        if (this.chunk.rows >= this.options.chunkRows) {
          await writer.apply(this.chunk.take());
          chunks++;
        }
      }
      if (this.chunk.rows > 0) {
        await writer.apply(this.chunk.take());
        chunks++;
      }
      this.clock = t;
      return countsBetween(before, this.counters, chunks);
    } catch (error) {
      this.failed = error;
      throw error;
    } finally {
      this.busy = false;
      this.updated = null;
    }
  }

  private scheduleExtraLoad(t: number, load: LoadTarget): void {
    const from = this.clock + 1;
    if (t < from) return;
    const pick = (): number => this.random.int(from, t);
    const orders = load.newOrders - this.arrivals.countBetween(from, t);
    for (let i = 0; i < orders; i++) this.queue.push({ kind: 'extra-order', at: pick() });
    const scheduled = this.queue.count(from, t, (a) => a.kind === 'track');
    const updates = load.trackingUpdates - scheduled;
    const scansPerUpdate = load.trackingUpdates > 0 ? load.scanEvents / load.trackingUpdates : 1;
    for (let i = 0; i < updates; i++) {
      this.queue.push({ kind: 'extra-update', at: pick(), scansPerUpdate });
    }
  }

  private run(action: Action): void {
    switch (action.kind) {
      case 'track':
        this.track(action.order, action.at);
        break;
      case 'upload':
        this.insertScan({ id: ++this.lastId.spath, ...action.scan }, action.at);
        break;
      case 'extra-order':
        this.createOrder(action.at);
        break;
      case 'extra-update':
        this.extraUpdate(action.at, action.scansPerUpdate);
        break;
    }
  }

  private nullable(orderId: string): string | null {
    return this.random.chance(this.options.rates.nullOrderId) ? null : orderId;
  }

  private createOrder(at: number): void {
    const { random, options } = this;
    const { rates } = options;
    const no = ++this.lastOrderNo;
    const orderId = `OT${String(no).padStart(10, '0')}`;
    const row: OrderRow = {
      id: ++this.lastId.ecs,
      order_id: this.nullable(orderId),
      // Skewed towards small partner ids: a few partners send most of the parcels.
      partner_id: random.chance(rates.nullPartner) ? null : 1 + Math.floor(PARTNERS * random.next() ** 2),
      customer_name: random.pick(CUSTOMER_NAMES),
      destination: random.pick(DESTINATIONS),
      weight_grams: Math.round(50 * Math.exp(random.next() * 6.4)),
      add_time: at,
    };
    this.chunk.ecs.push(row);
    this.chunk.touch(at);
    const c = this.counters;
    c.inserted.ecs_order_info++;
    if (row.order_id === null) c.nullOrderIds.ecs_order_info++;
    c.orders.created++;

    const u = random.next();
    const lifecycle: Lifecycle =
      u < rates.longLifecycle
        ? 'long'
        : u < rates.longLifecycle + rates.reactivated
          ? 'reactivated'
          : 'normal';
    if (lifecycle === 'long') c.orders.longLifecycle++;
    const duplicate: Duplicate = random.chance(rates.duplicateTracking)
      ? random.chance(rates.tiedDuplicate)
        ? 'tie'
        : 'relabel'
      : 'none';
    const planned = Math.max(3, Math.round(options.updatesPerOrder * random.between(0.5, 1.5)));
    const firstAt = at + random.int(FIRST_TRACKING_DELAY[0], FIRST_TRACKING_DELAY[1]);
    const [lo, hi] = lifecycle === 'long' ? LONG_DURATION : NORMAL_DURATION;
    const order: Order = {
      no,
      orderId,
      carrier: random.int(0, CARRIERS.length - 1),
      lifecycle,
      duplicate,
      duplicateAt: random.int(1, planned - 1),
      rows: [],
      traceSeq: 0,
      phase: 'active',
      done: 0,
      planned,
      endAt: firstAt + random.int(lo, hi),
      live: -1,
    };
    this.ordersInMemory++;
    this.queue.push({ kind: 'track', at: firstAt, order });
  }

  private statusOf(order: Order): string {
    const last = order.planned - 1;
    if (order.phase === 'returning') {
      return order.done === 0
        ? STATUS.returnRequested
        : order.done === last
          ? STATUS.returned
          : STATUS.inTransit;
    }
    if (order.done === 0) return STATUS.pickedUp;
    if (order.done === last) return STATUS.delivered;
    if (order.done === last - 1) return STATUS.outForDelivery;
    return this.random.pick(MIDDLE_STATUSES);
  }

  private trackingNo(order: Order, suffix: string): string {
    return `T${String(order.carrier).padStart(2, '0')}${String(order.no).padStart(10, '0')}${suffix}`;
  }

  /** The timestamp a write stores: normally its `at`, rarely days in the future (SPEC §5). */
  private stamp(at: number, table: 'uni_tracking_info' | 'uni_tracking_spath'): number {
    if (!this.random.chance(this.options.rates.futureTimestamp)) return at;
    this.counters.futureTimestamps[table]++;
    return at + this.random.int(FUTURE_SKEW[0], FUTURE_SKEW[1]);
  }

  private writeTracking(row: LiveTracking, at: number, isNew: boolean): void {
    this.chunk.uti.set(row.id, {
      id: row.id,
      order_id: row.order_id,
      tracking_no: row.tracking_no,
      status: row.status,
      carrier: row.carrier,
      location: row.location,
      update_time: row.update_time,
    });
    this.chunk.touch(at);
    const c = this.counters;
    if (isNew) {
      c.inserted.uni_tracking_info++;
      if (row.order_id === null) c.nullOrderIds.uni_tracking_info++;
    } else {
      c.trackingUpdates++;
    }
  }

  private newTracking(order: Order, suffix: string, status: string, location: string, time: number) {
    const row: LiveTracking = {
      id: ++this.lastId.uti,
      order_id: this.nullable(order.orderId),
      tracking_no: this.trackingNo(order, suffix),
      carrier: CARRIERS[order.carrier] as string,
      status,
      location,
      update_time: time,
    };
    return row;
  }

  private track(order: Order, at: number): void {
    const { random } = this;
    if (order.phase === 'dormant') {
      order.phase = 'returning';
      order.done = 0;
      order.planned = random.int(2, 5);
      order.endAt = at + random.int(RETURN_DURATION[0], RETURN_DURATION[1]);
      this.counters.orders.reactivated++;
      this.addLive(order);
    }
    this.updated?.add(order);
    const status = this.statusOf(order);
    const site = random.int(0, LOCATIONS.length - 1);
    const location = LOCATIONS[site] as string;
    const time = this.stamp(at, 'uni_tracking_info');

    if (order.rows.length === 0) {
      const row = this.newTracking(order, '', status, location, time);
      order.rows = [row];
      this.writeTracking(row, at, true);
      this.addLive(order);
    } else if (order.phase === 'active' && order.duplicate !== 'none' && order.done === order.duplicateAt) {
      const tie = order.duplicate === 'tie';
      if (tie) for (const row of order.rows) this.updateTracking(row, status, location, time, at);
      const second = this.newTracking(order, tie ? '' : 'R', status, location, time);
      this.writeTracking(second, at, true);
      order.rows = tie ? [...order.rows, second] : [second];
      this.counters.orders.duplicateTracking++;
      if (tie) this.counters.orders.tiedTracking++;
    } else {
      for (const row of order.rows) this.updateTracking(row, status, location, time, at);
    }
    this.scans(order, at, status, site, this.options.scansPerUpdate);

    order.done++;
    if (order.done < order.planned) {
      this.queue.push({ kind: 'track', at: this.nextUpdateAt(order, at), order });
      return;
    }
    this.removeLive(order);
    if (order.phase === 'active') {
      this.counters.orders.delivered++;
      if (order.lifecycle === 'reactivated') {
        order.phase = 'dormant';
        const sleep = random.chance(0.5) ? DORMANCY_SHORT : DORMANCY_LONG;
        this.queue.push({ kind: 'track', at: at + sleep + random.int(0, 3 * DAY), order });
        return;
      }
    }
    this.ordersInMemory--;
  }

  private updateTracking(
    row: LiveTracking,
    status: string,
    location: string,
    time: number,
    at: number,
  ): void {
    row.status = status;
    row.location = location;
    row.update_time = time;
    this.writeTracking(row, at, false);
  }

  private nextUpdateAt(order: Order, at: number): number {
    const remaining = order.planned - order.done;
    if (remaining === 1) return Math.max(at + MIN_GAP, order.endAt);
    const gap = ((order.endAt - at) / remaining) * this.random.between(0.4, 1.6);
    return at + Math.max(MIN_GAP, Math.round(gap));
  }

  /** A burst of scans recorded with one tracking update. */
  private scans(order: Order, at: number, status: string, site: number, mean: number): void {
    const { random } = this;
    const { rates } = this.options;
    const types = SCAN_TYPES[status] ?? [status];
    const count = random.countWithMean(mean);
    for (let i = 0; i < count; i++) {
      const scan: Omit<ScanRow, 'id'> = {
        order_id: this.nullable(order.orderId),
        traceSeq: ++order.traceSeq,
        pathTime: this.stamp(at, 'uni_tracking_spath'),
        scan_site: SCAN_SITES[site] as string,
        scan_type: random.pick(types),
        remark: random.chance(0.7) ? null : random.pick(SCAN_REMARKS),
      };
      if (random.chance(rates.lateScan)) {
        this.counters.lateScans++;
        const uploadAt = at + random.int(LATE_UPLOAD[0], LATE_UPLOAD[1]);
        this.queue.push({ kind: 'upload', at: uploadAt, scan });
      } else {
        this.insertScan({ id: ++this.lastId.spath, ...scan }, at);
      }
    }
  }

  private insertScan(row: ScanRow, at: number): void {
    this.chunk.spath.push(row);
    this.chunk.touch(at);
    this.counters.inserted.uni_tracking_spath++;
    if (row.order_id === null) this.counters.nullOrderIds.uni_tracking_spath++;
  }

  /**
   * An extra in-transit update on a random in-flight order (production-rate top-up), one the window
   * has not updated yet where the draws find one: production's millions of orders in flight take a
   * window's 20,000 updates one order each, so a window updates as many orders at every scale factor
   * whose history has that many in flight.
   */
  private extraUpdate(at: number, scansPerUpdate: number): void {
    if (this.live.length === 0) return;
    let order = this.live[this.random.int(0, this.live.length - 1)] as Order;
    for (let draw = 1; draw < FRESH_DRAWS && this.updated?.has(order) === true; draw++)
      order = this.live[this.random.int(0, this.live.length - 1)] as Order;
    this.updated?.add(order);
    const status = this.random.pick(MIDDLE_STATUSES);
    const site = this.random.int(0, LOCATIONS.length - 1);
    const time = this.stamp(at, 'uni_tracking_info');
    for (const row of order.rows) {
      this.updateTracking(row, status, LOCATIONS[site] as string, time, at);
    }
    this.scans(order, at, status, site, scansPerUpdate);
  }

  private addLive(order: Order): void {
    if (order.live >= 0) return;
    order.live = this.live.length;
    this.live.push(order);
  }

  private removeLive(order: Order): void {
    if (order.live < 0) return;
    const last = this.live.pop() as Order;
    if (last !== order) {
      this.live[order.live] = last;
      last.live = order.live;
    }
    order.live = -1;
  }
}
