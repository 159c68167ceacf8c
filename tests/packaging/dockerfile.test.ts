/**
 * The Dockerfile and .dockerignore, checked without a Docker engine: start command and ports
 * agree with the server and the chart; the build stage compiles from exactly the files the build
 * context holds; the runtime stage needs production dependencies only and runs as the chart's
 * non-root user.
 */
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { chartDir, repoRoot } from './support/paths.js';
import { dockerfileInstructions } from './support/server-env.js';

const instructions = dockerfileInstructions();
const lastStage = Math.max(...instructions.map((i) => i.stage));
const runtime = instructions.filter((i) => i.stage === lastStage);
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  type?: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: { node: string };
};
const values = parseYaml(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as {
  server: { port: number };
  metrics: { port: number };
  podSecurityContext: { runAsUser: number; runAsGroup: number };
};

const one = (op: string, stage = lastStage): string => {
  const found = instructions.filter((i) => i.op === op && i.stage === stage);
  if (found.length !== 1) throw new Error(`expected one ${op} in stage ${stage}, found ${found.length}`);
  return found[0]!.args;
};
const execForm = (args: string): string[] => JSON.parse(args) as string[];

/** Stage names, and the image each stage starts from (ARG defaults resolved). */
function stages(): Array<{ image: string; name: string | undefined }> {
  const args = new Map<string, string>();
  for (const i of instructions.filter((x) => x.op === 'ARG' && x.stage === -1)) {
    const [k, v] = i.args.split('=') as [string, string | undefined];
    if (v !== undefined) args.set(k, v);
  }
  return instructions
    .filter((i) => i.op === 'FROM')
    .map((i) => {
      const [image, as, name] = i.args.split(/\s+/);
      return {
        image: image!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args.get(a ?? b) ?? ''),
        name: as?.toUpperCase() === 'AS' ? name : undefined,
      };
    });
}

describe('Dockerfile', () => {
  it('builds in stages from a small official image of a supported Node LTS line (24 or 26), the one engines names', () => {
    const s = stages();
    expect(s.length).toBeGreaterThanOrEqual(2);
    for (const { image } of s) expect(image).toMatch(/^node:(24|26)(\.\d+)*-(alpine[\d.]*|(bookworm|bullseye|trixie)-slim|slim)(@sha256:[a-f0-9]{64})?$/);
    const majors = new Set(s.map(({ image }) => image.split(/[:.-]/)[1]));
    expect(majors.size).toBe(1);
    // engines names each Node major the server is tested on, the image's among them.
    expect(pkg.engines.node.split('||').map((range) => range.trim().replace(/^\^(\d+)\..*$/, '$1'))).toContain([...majors][0]);
  });

  it('starts the server as npm start does: node dist/main.js, under an init that forwards SIGTERM', () => {
    expect(execForm(one('CMD'))).toEqual(['node', 'dist/main.js']);
    // npm start compiles first when the sources changed (bin/build-on-demand.mjs), then loads dist/main.js in its own process.
    expect(pkg.scripts.start).toBe('node scripts/start.mjs');
    expect(fs.readFileSync(path.join(repoRoot, 'scripts/start.mjs'), 'utf8')).toContain("await runBuilt('npm start', 'main.js');");
    expect(fs.existsSync(path.join(repoRoot, 'src/main.ts'))).toBe(true);
    const entrypoint = execForm(one('ENTRYPOINT'));
    expect(entrypoint[0]).toMatch(/\/tini$/);
    expect(runtime.some((i) => i.op === 'RUN' && /apk add --no-cache tini|apt-get install .*tini/.test(i.args))).toBe(true);
    expect(one('WORKDIR')).toBe('/app');
  });

  it('exposes the server port and the metrics port, the server defaults and the chart ports', () => {
    const exposed = one('EXPOSE')
      .split(/\s+/)
      .map((p) => Number(p.replace(/\/tcp$/, '')));
    const defaults = loadConfig({ POD_NAME: 'x' });
    expect(exposed).toEqual([defaults.port, defaults.metricsPort]);
    expect(exposed).toEqual([values.server.port, values.metrics.port]);
    expect(exposed).toEqual([3000, 9464]);
    const health = one('HEALTHCHECK');
    expect(health).toContain('/healthz');
  });

  it("runs as the chart's non-root user, owning none of the application's files", () => {
    const user = one('USER');
    expect(user).toBe(`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    // COPY without --chown: files stay root's, so the server cannot write outside /tmp.
    for (const copy of runtime.filter((i) => i.op === 'COPY')) expect(copy.args).not.toContain('--chown');
    const userIndex = runtime.findIndex((i) => i.op === 'USER');
    expect(runtime.slice(userIndex).filter((i) => i.op === 'RUN')).toEqual([]);
  });

  it('the runtime stage holds dist/ from the build stage and production dependencies only', () => {
    const s = stages();
    const copies = runtime.filter((i) => i.op === 'COPY').map((i) => i.args);
    const from = (dest: string): string | undefined => copies.find((c) => c.endsWith(` ./${dest}`) || c.endsWith(` ${dest}`));
    const nodeModules = /--from=(\S+)/.exec(from('node_modules') ?? '')?.[1];
    const dist = /--from=(\S+)/.exec(from('dist') ?? '')?.[1];
    expect(nodeModules).toBeDefined();
    expect(dist).toBeDefined();
    const stageOf = (name: string) => s.findIndex((x) => x.name === name);
    const depsRuns = instructions.filter((i) => i.stage === stageOf(nodeModules!) && i.op === 'RUN').map((i) => i.args);
    expect(depsRuns.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    const buildRuns = instructions.filter((i) => i.stage === stageOf(dist!) && i.op === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(buildRuns.some((r) => r.includes('npm run build'))).toBe(true);
    expect(runtime.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args))).toBe(false);
    expect(runtime.some((i) => i.op === 'ENV' && /NODE_ENV=production/.test(i.args))).toBe(true);
    // dist/ is ES modules: Node needs package.json's "type": "module" beside it.
    expect(pkg.type).toBe('module');
    expect(copies.some((c) => /^package\.json \.\/?$/.test(c))).toBe(true);
  });

  it('production dependencies need no install scripts (the deps stage runs npm ci --ignore-scripts)', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    const prod = Object.entries(lock.packages).filter(([name, p]) => name.startsWith('node_modules/') && !p.dev);
    expect(prod.length).toBeGreaterThan(Object.keys(pkg.dependencies).length);
    expect(prod.filter(([, p]) => p.hasInstallScript).map(([name]) => name)).toEqual([]);
  });

  it('the helm test command runs the client from the image: dist/client/cli.js, what the package bins run', () => {
    expect(pkg.bin['mcp-fleet-client']).toBe('bin/mcp-fleet-client.mjs');
    expect(fs.readFileSync(path.join(repoRoot, pkg.bin['mcp-fleet-client']!), 'utf8')).toContain("'client/cli.js'");
  });
});

describe("the example project's Dockerfile (examples/my-tools)", () => {
  const example = dockerfileInstructions(path.join(repoRoot, 'examples/my-tools/Dockerfile'));
  const exampleLast = Math.max(...example.map((i) => i.stage));
  const from = (list: typeof example) => list.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]);
  const nodeImage = (list: typeof example) => list.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args;

  it("builds in stages from the same Node image as the project's Dockerfile", () => {
    expect(from(example).length).toBeGreaterThanOrEqual(2);
    expect(new Set(from(example))).toEqual(new Set(['${NODE_IMAGE}']));
    expect(nodeImage(example)).toBe(nodeImage(instructions));
  });

  it('runs `mcp-fleet serve` as a non-root user, under an init that forwards SIGTERM', () => {
    const last = example.filter((i) => i.stage === exampleLast);
    expect(last.find((i) => i.op === 'USER')?.args).toBe(`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`);
    expect(execForm(last.find((i) => i.op === 'ENTRYPOINT')!.args)).toEqual(['/sbin/tini', '--', 'mcp-fleet', 'serve']);
  });

  it('its chart values deploy it: its image, and server.workload naming the module the image built', () => {
    const exampleValues = parseYaml(fs.readFileSync(path.join(repoRoot, 'examples/my-tools/values.yaml'), 'utf8')) as {
      image: { repository: string };
      server: { workload: string };
    };
    expect(exampleValues.image.repository).toMatch(/my-tools$/);
    expect(exampleValues.server.workload).toBe('./dist/tools.js');
    const examplePkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/my-tools/package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(examplePkg.scripts.start).toContain(`--workload ${exampleValues.server.workload}`);
  });
});

/** Docker's .dockerignore semantics: last matching pattern wins; a pattern matching a parent directory matches its files. */
function dockerignore(): (file: string) => boolean {
  const patterns = fs
    .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      const source = glob
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) =>
          part === '**/' ? '(?:.*/)?' : part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (file: string) => {
    const parts = file.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of patterns) if (prefixes.some((x) => p.re.test(x))) excluded = !p.negate;
    return !excluded;
  };
}

describe('.dockerignore', () => {
  const included = dockerignore();

  it('sends what the build reads and nothing of node_modules, dist, .git, tests or the deployment files', () => {
    const copied = instructions
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .map((f) => f.replace(/^\.\//, ''));
    expect(copied.length).toBeGreaterThan(3);
    for (const f of copied) expect({ f, included: included(f) }).toEqual({ f, included: true });
    expect(included('src/config.ts')).toBe(true);
    for (const f of [
      'node_modules/express/index.js',
      'dist/main.js',
      '.git/HEAD',
      'tests/unit/config.test.ts',
      'charts/mcp-fleet/values.yaml',
      'k8s/base/deployment.yaml',
      'Dockerfile',
      '.env',
      'src/server/app.test.ts',
    ]) {
      expect({ f, included: included(f) }).toEqual({ f, included: false });
    }
  });
});

describe('build stage, rehearsed on the files of the build context', () => {
  let context: string;
  let out: string;

  beforeAll(() => {
    // Copy what .dockerignore lets through (no Docker engine here), link node_modules in for the
    // compiler, and run the build stage's compile into a fresh dist/.
    context = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-context-'));
    const walk = (dir: string): string[] =>
      fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory()) return rel === 'node_modules' || rel === '.git' ? [] : walk(rel);
        return [rel];
      });
    const included = dockerignore();
    for (const f of walk('').filter(included)) {
      fs.mkdirSync(path.dirname(path.join(context, f)), { recursive: true });
      fs.copyFileSync(path.join(repoRoot, f), path.join(context, f));
    }
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(context, 'node_modules'), 'dir');
    out = path.join(context, 'dist');
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: context, stdio: 'pipe' });
  }, 180_000);

  afterAll(() => {
    if (context) fs.rmSync(context, { recursive: true, force: true });
  });

  it('compiles dist/main.js (and the CLI the helm test runs, once it exists in src/)', () => {
    expect(fs.existsSync(path.join(out, 'main.js'))).toBe(true);
    if (fs.existsSync(path.join(repoRoot, 'src/client/cli.ts'))) expect(fs.existsSync(path.join(out, 'client/cli.js'))).toBe(true);
  });

  it('what it compiles imports production dependencies only', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name));
        else if (e.name.endsWith('.js')) files.push(path.join(dir, e.name));
      }
    };
    walk(out);
    const builtins = new Set(builtinModules);
    const used = new Set<string>();
    for (const f of files) {
      const js = fs.readFileSync(f, 'utf8');
      for (const m of js.matchAll(
        /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
      )) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        used.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((p) => !(p in pkg.dependencies)).sort()).toEqual([]);
  });
});
