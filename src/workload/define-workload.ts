import type { Workload } from './types.js';

/**
 * Types a workload module's default export: `export default defineWorkload({ name, register(server, ctx) { ... } })`
 * gives `server` and `ctx` their types without an annotation.
 */
export function defineWorkload(workload: Workload): Workload {
  return workload;
}
