#!/usr/bin/env node
// npm run fuzz -- [--cases N] [--seed S] [--path P] [--keep-going]: a long fuzz campaign through a
// local fleet (the suite's own test, with more cases). Options override FUZZ_CASES, FUZZ_SEED,
// FUZZ_PATH and FUZZ_KEEP_GOING; the seed is printed, and a failure prints its replay path.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const USAGE = `Usage: npm run fuzz -- [--cases N] [--seed S] [--path P] [--keep-going]
  --cases N      generated requests (default 20000; FUZZ_CASES)
  --seed S       fast-check seed, to replay a run (default: random, printed; FUZZ_SEED)
  --path P       fast-check path of a reported failure, with its seed, to replay just that case (FUZZ_PATH)
  --keep-going   count every violation instead of stopping at the first and shrinking it (FUZZ_KEEP_GOING=1)`;

const env = { ...process.env, FUZZ_CASES: process.env.FUZZ_CASES || '20000' };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].includes('=') ? args[i].split(/=(.*)/s) : [args[i], undefined];
  const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value`);
  if (flag === '--cases') env.FUZZ_CASES = value();
  else if (flag === '--seed') env.FUZZ_SEED = value();
  else if (flag === '--path') env.FUZZ_PATH = value();
  else if (flag === '--keep-going') env.FUZZ_KEEP_GOING = '1';
  else if (flag === '--help' || flag === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else fail(`unknown argument ${args[i]}`);
}

function fail(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', 'tests/fuzz/fleet-fuzz.test.ts'], { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
