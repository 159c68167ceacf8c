import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/**
 * The environment variables the server reads, taken from the source of src/config.ts: every
 * `r.<reader>('NAME'...)` call of its Reader. Parsing the source (rather than keeping a list here)
 * means a variable added to or removed from the server shows up in these tests at once.
 */
export function serverEnvNames(): Set<string> {
  const source = fs.readFileSync(path.join(repoRoot, 'src/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/\br\.(?:raw|string|int|bool|oneOf|list|hostPorts|url)\(\s*'([A-Z][A-Z0-9_]*)'/g)) {
    names.add(m[1]!);
  }
  if (names.size < 10) throw new Error(`found only ${names.size} variable names in src/config.ts: has its Reader changed?`);
  return names;
}

/** Reads the Dockerfile's instructions (continuation lines joined, comments dropped). */
export function dockerfileInstructions(file = path.join(repoRoot, 'Dockerfile')): Array<{ op: string; args: string; stage: number }> {
  const text = fs.readFileSync(file, 'utf8').replace(/\\\r?\n/g, ' ');
  const out: Array<{ op: string; args: string; stage: number }> = [];
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line not understood: ${line}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage += 1;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}
