/**
 * `npm start` (scripts/start.mjs) on a copy of the checkout: several replicas started at the same
 * moment all come up, on one compile; a start with unchanged sources compiles nothing; a changed
 * source is compiled on the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/fleet/free-port.js';
import { repoRoot } from './support/paths.js';

const COMPILING = 'compiling src/ into dist/';

interface Started {
  port: number;
  child: ChildProcess;
  output: string;
}

let checkout: string;
const running: Started[] = [];

/** `npm start` in the copy, in its own process group (npm, sh and node), on a free port. */
async function npmStart(): Promise<Started> {
  const port = await freePort();
  const child = spawn('npm', ['start'], {
    cwd: checkout,
    // In memory: no REDIS_* setting from this process's environment.
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REDIS_'))),
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      POD_NAME: `start-${port}`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const started: Started = { port, child, output: '' };
  child.stdout!.on('data', (chunk: Buffer) => (started.output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (started.output += chunk.toString()));
  running.push(started);
  return started;
}

async function ready(s: Started, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`npm start on port ${s.port} exited with ${s.child.exitCode}:\n${s.output}`);
    if (
      await fetch(`http://127.0.0.1:${s.port}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`npm start on port ${s.port} was not ready within ${timeoutMs} ms:\n${s.output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  try {
    process.kill(-s.child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
  await exited;
}

const compiles = (started: Started[]): number => started.filter((s) => s.output.includes(COMPILING)).length;

beforeAll(() => {
  checkout = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-start-')), 'mcp-fleet');
  fs.mkdirSync(checkout);
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts/start.mjs', 'bin']) {
    fs.cpSync(path.join(repoRoot, f), path.join(checkout, f), { recursive: true });
  }
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(checkout, 'node_modules'));
});

afterAll(async () => {
  await Promise.all(running.map(stop));
  if (checkout) fs.rmSync(path.dirname(checkout), { recursive: true, force: true });
});

describe('npm start', () => {
  it('three replicas started at once from a checkout without dist/ all come up, on one compile', async () => {
    expect(fs.existsSync(path.join(checkout, 'dist'))).toBe(false);
    const started = await Promise.all([npmStart(), npmStart(), npmStart()]);
    await Promise.all(started.map((s) => ready(s)));
    for (const s of started) expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    expect(compiles(started)).toBe(1);
    await Promise.all(started.map(stop));
    // Nothing left over from the build beside dist/.
    expect(
      fs
        .readdirSync(checkout)
        .filter((f) => f.startsWith('dist'))
        .sort(),
    ).toEqual(['dist']);
  }, 180_000);

  it('does not compile again when the sources have not changed: dist/ is left as it is', async () => {
    const main = path.join(checkout, 'dist/main.js');
    const before = fs.statSync(main).mtimeMs;
    const s = await npmStart();
    await ready(s);
    expect(compiles([s])).toBe(0);
    expect(fs.statSync(main).mtimeMs).toBe(before);
    await stop(s);
  }, 120_000);

  it('compiles again, once, after a source changed', async () => {
    fs.appendFileSync(path.join(checkout, 'src/main.ts'), '\n// changed\n');
    const started = await Promise.all([npmStart(), npmStart()]);
    await Promise.all(started.map((s) => ready(s)));
    expect(compiles(started)).toBe(1);
    expect(fs.readFileSync(path.join(checkout, 'dist/main.js'), 'utf8')).toContain('// changed');
    await Promise.all(started.map(stop));
  }, 180_000);
});
