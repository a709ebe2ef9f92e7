/**
 * Interim re-export for drop-counters.ts and tracefs-stats.ts, which move onto the kernel layer (kernel/procfs-text.ts)
 * in the drop sources' own change; delete this file once nothing imports it.
 */
export { parseCount, procfsLines } from '../../kernel/procfs-text';
