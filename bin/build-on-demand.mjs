// Builds dist/ from src/ when the sources changed since its last build (`npm start`, the
// `mcp-fleet` bin in a checkout, `npm pack` and git installs through prepare).
//
// dist/.sources.sha256 holds a hash of what the build reads (src/, tsconfig.json,
// tsconfig.build.json). When it matches, nothing happens. When it does not, one process
// takes a lock, compiles into a fresh directory and swaps it in for dist/ with renames; replicas
// started at the same moment from the same checkout wait on the lock, find the new hash and run
// that build. No process ever loads a dist/ that a compiler is still writing. In an installed
// package (no src/) dist/ is used as it is.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const STAMP = '.sources.sha256';
const lock = path.join(root, 'dist.lock');
const LOCK_WAIT_MS = 300_000;

function inputs() {
  const files = ['tsconfig.json', 'tsconfig.build.json'];
  for (const f of fs.readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })) {
    const rel = path.join('src', f);
    if (fs.statSync(path.join(root, rel)).isFile()) files.push(rel);
  }
  return files.sort();
}

function sourcesHash() {
  const hash = createHash('sha256');
  for (const f of inputs()) hash.update(`${f}\0`).update(fs.readFileSync(path.join(root, f))).update('\0');
  return hash.digest('hex');
}

function built(hash) {
  try {
    return fs.readFileSync(path.join(dist, STAMP), 'utf8').trim() === hash && fs.existsSync(path.join(dist, 'main.js'));
  } catch {
    return false;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function lockAgeMs() {
  try {
    return Date.now() - fs.statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function acquireLock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    // A lock left by a process that died mid-build is taken over.
    let holder = 0;
    try {
      holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {
      // just created: its pid is not written yet
    }
    const stale = holder > 0 ? !alive(holder) : lockAgeMs() > 10_000;
    if (stale) fs.rmSync(lock, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`waited ${LOCK_WAIT_MS / 1000} s for ${lock} (held by pid ${holder}); remove it if no build is running`);
    else sleep(100);
  }
}

function compile(hash, label) {
  const out = `${dist}.build-${process.pid}`;
  const old = `${dist}.old-${process.pid}`;
  fs.rmSync(out, { recursive: true, force: true });
  process.stderr.write(`${label}: the sources changed since the last build: compiling src/ into dist/ ...\n`);
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    fs.rmSync(out, { recursive: true, force: true });
    throw new Error(`the TypeScript build failed (exit ${result.status ?? result.signal})`);
  }
  fs.writeFileSync(path.join(out, STAMP), `${hash}\n`);
  if (fs.existsSync(dist)) fs.renameSync(dist, old);
  fs.renameSync(out, dist);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The checkout's sources, or undefined in an installed package (or an image holding dist/ only). */
function isCheckout() {
  return fs.existsSync(path.join(root, 'src')) && fs.existsSync(path.join(root, 'tsconfig.build.json'));
}

/**
 * dist/ up to date with src/ (compiled when it is not); throws with a message naming `label` when
 * it cannot be. `optional`: a checkout without TypeScript installed (npm ci --omit=dev) or without
 * src/ (a Docker layer with package.json alone) is left as it is.
 */
export function ensureBuilt(label, { optional = false } = {}) {
  if (!isCheckout() || !fs.existsSync(path.join(root, 'node_modules/typescript/bin/tsc'))) {
    if (optional || fs.existsSync(path.join(dist, 'main.js'))) return;
    throw new Error(`${dist} is missing and cannot be built here (no src/ or no TypeScript): run npm ci, then npm run build`);
  }
  const hash = sourcesHash();
  if (built(hash)) return;
  acquireLock();
  try {
    if (!built(hash)) compile(hash, label);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds if needed, then imports dist/<entry> in this process (it receives the signals itself). */
export async function runBuilt(label, entry) {
  try {
    ensureBuilt(label);
  } catch (error) {
    process.stderr.write(`${label}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  await import(pathToFileURL(path.join(dist, entry)).href);
}

// `node bin/build-on-demand.mjs`: prepare and prepack. `--stamp`: after `npm run build` (tsc into
// dist/), records the sources it compiled, so that the next `npm start` or bin does not compile
// again (and swap dist/ under processes already running from it).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--stamp')) fs.writeFileSync(path.join(dist, STAMP), `${sourcesHash()}\n`);
    else ensureBuilt('mcp-fleet build', { optional: process.argv.includes('--optional') });
  } catch (error) {
    process.stderr.write(`mcp-fleet build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
