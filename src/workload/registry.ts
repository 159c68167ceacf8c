import { ConfigError } from '../config.js';
import { conformanceWorkload } from './conformance.js';
import { referenceWorkload } from './reference.js';
import type { Workload } from './types.js';

const WORKLOADS: Record<string, Workload> = {
  [referenceWorkload.name]: referenceWorkload,
  [conformanceWorkload.name]: conformanceWorkload,
};

/** The workload named by MCP_WORKLOAD. */
export function resolveWorkload(name: string): Workload {
  const workload = WORKLOADS[name];
  if (!workload) throw new ConfigError([`MCP_WORKLOAD=${JSON.stringify(name)} is not one of ${Object.keys(WORKLOADS).join(', ')}`]);
  return workload;
}
