import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { redact } from '../config/urls.js';

/** What a running `serve` leaves on disk for `status` on the same machine. */
export interface ServeState {
  readonly pid: number;
  readonly url: string;
  readonly startedAt: string;
  /** The warehouse it serves, password redacted. */
  readonly warehouse: string;
}

/**
 * Where serve writes its state: beside an embedded warehouse's file, else under `.order-tracking/`,
 * one file per pipeline.
 */
export const serveStatePath = (settings: Settings): string => {
  // One file per pipeline: its warehouse (password left out) and metadata schema.
  const pipeline = createHash('sha256')
    .update(`${redact(settings.warehouse.url)}\n${settings.schemas.meta}`)
    .digest('hex')
    .slice(0, 12);
  return settings.warehouse.kind === 'duckdb' && settings.warehouse.path !== ':memory:'
    ? join(dirname(settings.warehouse.path), `serve-${pipeline}.json`)
    : join('.order-tracking', `serve-${pipeline}.json`);
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
};

/** The serve running for these settings on this machine, or `null` (none, or its process is gone). */
export const readServeState = async (settings: Settings): Promise<ServeState | null> => {
  try {
    const state = JSON.parse(await readFile(serveStatePath(settings), 'utf8')) as Partial<ServeState>;
    if (typeof state.pid !== 'number' || typeof state.url !== 'string' || !alive(state.pid)) return null;
    return state as ServeState;
  } catch {
    return null;
  }
};
