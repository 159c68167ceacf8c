import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { conformanceWorkload } from './conformance.js';
import { referenceWorkload } from './reference.js';
import type { Workload } from './types.js';

export const BUILT_IN_WORKLOADS: Record<string, Workload> = {
  [referenceWorkload.name]: referenceWorkload,
  [conformanceWorkload.name]: conformanceWorkload,
};

/** A workload that could not be loaded: one line naming the module and why (no stack trace). */
export class WorkloadLoadError extends Error {
  constructor(spec: string, reason: string) {
    super(`workload ${JSON.stringify(spec)}: ${reason}`);
    this.name = 'WorkloadLoadError';
  }
}

const isPath = (spec: string): boolean => spec.startsWith('.') || path.isAbsolute(spec) || /^file:/.test(spec);

/** The URL to import for `spec`: a path relative to `cwd`, or a package installed where `cwd` (or mcp-fleet) can see it. */
function moduleUrl(spec: string, cwd: string): string {
  if (spec.startsWith('file:')) return spec;
  if (isPath(spec)) return pathToFileURL(path.resolve(cwd, spec)).href;
  try {
    return pathToFileURL(createRequire(path.join(cwd, 'package.json')).resolve(spec)).href;
  } catch {
    // An ESM-only package (exports with "import" alone) or one only mcp-fleet's own node_modules has:
    // left to import() from here.
    return spec;
  }
}

export function isWorkload(value: unknown): value is Workload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Workload).name === 'string' &&
    (value as Workload).name !== '' &&
    typeof (value as Workload).register === 'function'
  );
}

function loadFailure(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts\b/.test(message)) {
    return `cannot load it: ${message} (a TypeScript module needs Node 24, which strips types, or compile it to JavaScript)`;
  }
  return `cannot load it: ${message}`;
}

/**
 * The workload MCP_WORKLOAD (or `--workload`) names: `reference`, `conformance`, or a module
 * specifier whose default export (or a named export `workload`) is a Workload.
 */
export async function loadWorkload(spec: string, cwd = process.cwd()): Promise<Workload> {
  const builtIn = BUILT_IN_WORKLOADS[spec];
  if (builtIn) return builtIn;
  if (spec.trim() === '') throw new WorkloadLoadError(spec, `empty; use ${Object.keys(BUILT_IN_WORKLOADS).join(', ')} or a module`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(moduleUrl(spec, cwd))) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : '';
    if (!isPath(spec) && code === 'ERR_MODULE_NOT_FOUND' && message.includes(`'${spec.split('/')[0]}`)) {
      throw new WorkloadLoadError(spec, `not a built-in workload (${Object.keys(BUILT_IN_WORKLOADS).join(', ')}) and no installed package of that name`);
    }
    throw new WorkloadLoadError(spec, loadFailure(error));
  }
  const candidate = exports.default ?? exports.workload;
  if (isWorkload(candidate)) return candidate;
  const found = Object.keys(exports).length === 0 ? 'it exports nothing' : `its exports: ${Object.keys(exports).join(', ')}`;
  throw new WorkloadLoadError(spec, `its default export is not a Workload (an object with a name and a register(server, ctx) function; ${found})`);
}
