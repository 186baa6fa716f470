import type { MaintenanceStep, MaintenanceTarget } from '../warehouse.js';

/**
 * DuckDB's maintenance plan (SPEC §6): one `checkpoint` of the whole database, whatever the tables.
 * It writes the write-ahead log into the database file, so the file alone holds the data and the
 * blocks that deletes and archives freed can be reused. A plain `checkpoint`, never `force
 * checkpoint`, which aborts other sessions' transactions. DuckDB 1.5 checkpoints beside another
 * session's open transaction (its uncommitted rows stay in its own storage); older releases refused
 * while another session wrote. The monitor runs it once its other steps have ended, with only the
 * run ledger's idle session open.
 */
export const duckdbMaintenancePlan = (_targets: readonly MaintenanceTarget[]): MaintenanceStep[] => [
  {
    action: 'CHECKPOINT',
    sql: 'checkpoint',
    table: null,
    reason: 'database: the write-ahead log written into the file, freed blocks made reusable',
  },
];
