/** Generator options, their defaults, and the mapping from SPEC §10's scale factor. */

/** Writes per 15-minute window; used for top-ups (see `productionBatch`). */
export interface LoadTarget {
  /** New orders (ecs_order_info inserts). */
  readonly newOrders: number;
  /** Tracking writes (uni_tracking_info inserts and in-place updates). */
  readonly trackingUpdates: number;
  /** Scan events (uni_tracking_spath inserts). */
  readonly scanEvents: number;
}

/** Production load per 15 minutes, independent of the scale factor (SPEC §10). */
export const PRODUCTION_RATE: LoadTarget = {
  newOrders: 1_700,
  trackingUpdates: 20_000,
  scanEvents: 67_700,
};

/** Seconds in one pipeline cycle. */
export const CYCLE_SECONDS = 900;

const CYCLES_PER_DAY = 86_400 / CYCLE_SECONDS;

/** Probabilities of the special cases. */
export interface GeneratorRates {
  /** Per row, in every table: `order_id` is NULL (SPEC §5). Default 0.002. */
  readonly nullOrderId: number;
  /** Per tracking write and per scan: timestamp 2–4 days after the write (SPEC §5). Default 0.0001. */
  readonly futureTimestamp: number;
  /** Per scan: uploaded 1–6 hours after its `pathTime`. Default 0.02. */
  readonly lateScan: number;
  /** Per order: a second uni_tracking_info row for the same order. Default 0.005. */
  readonly duplicateTracking: number;
  /** Per duplicated order: both rows keep identical `update_time` (ties). Default 0.5. */
  readonly tiedDuplicate: number;
  /** Per order: updates spread over 7–9 months. Default 0.03. */
  readonly longLifecycle: number;
  /** Per order: dormant 8 or 14 months after delivery, then new updates. Default 0.01. */
  readonly reactivated: number;
  /** Per order: `partner_id` is NULL. Default 0.002. */
  readonly nullPartner: number;
}

export const DEFAULT_RATES: GeneratorRates = {
  nullOrderId: 0.002,
  futureTimestamp: 0.0001,
  lateScan: 0.02,
  duplicateTracking: 0.005,
  tiedDuplicate: 0.5,
  longLifecycle: 0.03,
  reactivated: 0.01,
  nullPartner: 0.002,
};

export interface GeneratorOptions {
  /** Seed of every random choice; same options, same rows. */
  readonly seed: number;
  /** Epoch seconds (UTC) of the first simulated second. */
  readonly start: number;
  /** Days during which new orders are created; in-flight orders keep evolving afterwards. */
  readonly days: number;
  /** Mean new orders per day (fractional values are fine). */
  readonly ordersPerDay: number;
  /** Mean tracking updates per order lifecycle. Default 20,000 / 1,700 ≈ 11.76 (SPEC §10's ratio). */
  readonly updatesPerOrder?: number;
  /** Mean scan events per tracking update. Default 67,700 / 20,000 = 3.385 (SPEC §10's ratio). */
  readonly scansPerUpdate?: number;
  /** Rows per `WriteChunk` (one source transaction). Default 20,000. */
  readonly chunkRows?: number;
  /** Overrides of the special-case probabilities. */
  readonly rates?: Partial<GeneratorRates>;
}

export interface ResolvedOptions {
  readonly seed: number;
  readonly start: number;
  readonly days: number;
  readonly ordersPerDay: number;
  readonly updatesPerOrder: number;
  readonly scansPerUpdate: number;
  readonly chunkRows: number;
  readonly rates: GeneratorRates;
}

function requireNumber(name: string, value: number, min: number, integer = false): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(
      `generator option ${name} = ${String(value)} is invalid: expected ${integer ? 'an integer' : 'a number'} >= ${min}`,
    );
  }
  return value;
}

/** Fills in defaults and rejects impossible values with a message naming the option. */
export function resolveOptions(options: GeneratorOptions): ResolvedOptions {
  const rates = { ...DEFAULT_RATES, ...options.rates };
  for (const [name, p] of Object.entries(rates)) {
    if (!(p >= 0 && p <= 1)) {
      throw new Error(`generator rate ${name} = ${String(p)} is invalid: expected a probability in [0, 1]`);
    }
  }
  return {
    seed: requireNumber('seed', options.seed, 0, true),
    start: requireNumber('start', options.start, 0, true),
    days: requireNumber('days', options.days, 0),
    ordersPerDay: requireNumber('ordersPerDay', options.ordersPerDay, 0),
    updatesPerOrder: requireNumber(
      'updatesPerOrder',
      options.updatesPerOrder ?? PRODUCTION_RATE.trackingUpdates / PRODUCTION_RATE.newOrders,
      2,
    ),
    scansPerUpdate: requireNumber(
      'scansPerUpdate',
      options.scansPerUpdate ?? PRODUCTION_RATE.scanEvents / PRODUCTION_RATE.trackingUpdates,
      1,
    ),
    chunkRows: requireNumber('chunkRows', options.chunkRows ?? 20_000, 1, true),
    rates,
  };
}

/** Days of history a scale factor describes: the marts' 6-month window (SPEC §4, 180 days + margin). */
export const SCALE_FACTOR_DAYS = 183;

/**
 * Options for scale factor `sf` (SPEC §10: SF 1 = 1/100 of production, ~300,000 orders and
 * ~11.7 M scan events over 6 months), ending at `end` (epoch seconds). New orders arrive at 1/100
 * of production per SF (1,632 a day at SF 1) from `end − 183 days`.
 */
export function scaleFactorOptions(
  sf: number,
  end: number,
  overrides: Partial<GeneratorOptions> = {},
): GeneratorOptions {
  requireNumber('sf', sf, 0);
  const days = overrides.days ?? SCALE_FACTOR_DAYS;
  return {
    seed: 1,
    start: Math.round(end - days * 86_400),
    days,
    ordersPerDay: (PRODUCTION_RATE.newOrders * CYCLES_PER_DAY * sf) / 100,
    ...overrides,
  };
}
