import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** Where scripts/install-test-tools.sh (run by scripts/install-test-deps.sh) puts the test tools. */
export const toolsDir = path.join(repoRoot, '.cache/tools');

export type Tool = 'helm3' | 'helm4' | 'kubectl' | 'image-node';

/** The path of a test tool; throws, saying how to install it, when it is not there. */
export function tool(name: Tool): string {
  const file = path.join(toolsDir, 'bin', name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run bash scripts/install-test-deps.sh (it installs the test tools)`);
  return file;
}
