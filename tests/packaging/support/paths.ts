import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const chartDir = path.join(repoRoot, 'charts/mcp-fleet');
export const k8sDir = path.join(repoRoot, 'k8s');
export const valuesDir = path.join(repoRoot, 'tests/packaging/values');
