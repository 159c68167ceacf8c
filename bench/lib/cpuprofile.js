// Reading V8 .cpuprofile files (node --cpu-prof): self time per function and per package, within
// a time window (timestamps are CLOCK_MONOTONIC µs, the clock of process.hrtime in every process),
// over one or several profiles; and one merged, windowed profile for a flame graph.
import fs from 'node:fs';
import path from 'node:path';

export function readProfiles(paths) {
  const files = paths.flatMap((p) =>
    fs.statSync(p).isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => path.join(p, f))
      : [p],
  );
  return files.map((file) => ({ file, profile: JSON.parse(fs.readFileSync(file, 'utf8')) }));
}

/** Each sample's node id, timestamp and duration (the gap to the next sample), within [from, to] µs when given. */
export function timedSamples(profile, window = {}) {
  const out = [];
  let t = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    const duration = i + 1 < samples.length ? (timeDeltas[i + 1] ?? 0) : 0;
    if (window.from !== undefined && t < window.from) continue;
    if (window.to !== undefined && t > window.to) continue;
    out.push({ id: samples[i], at: t, duration });
  }
  return out;
}

const IDLE = new Set(['(idle)', '(root)']);

/** Where a script belongs: its npm package, node's internals, the project's own dist/, or V8 itself. */
export function packageOf(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node: (core)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return `mcp-fleet ${url
      .slice(dist + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return path.basename(url);
}

function frameKey(frame) {
  const name = frame.functionName || '(anonymous)';
  return frame.url ? `${name} ${frame.url.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}` : name;
}

/**
 * Self time by function over `profiles` within `window`: { busyUs, idleUs, functions: Map(key →
 * { name, location, pkg, selfUs }), packages: Map(pkg → selfUs) }.
 */
export function selfTimes(profiles, window = {}) {
  const functions = new Map();
  const packages = new Map();
  const inclusive = new Map();
  let busyUs = 0;
  let idleUs = 0;
  const entryOf = (frame) => {
    const key = frameKey(frame);
    let entry = functions.get(key);
    if (!entry) {
      const pkg = frame.functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(frame.url);
      entry = {
        name: frame.functionName || '(anonymous)',
        location: frame.url ? `${frame.url.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}` : '',
        pkg,
        selfUs: 0,
      };
      functions.set(key, entry);
    }
    return [key, entry];
  };
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
    for (const { id, duration } of timedSamples(profile, window)) {
      const frame = nodes.get(id)?.callFrame;
      if (!frame) continue;
      if (IDLE.has(frame.functionName)) {
        idleUs += duration;
        continue;
      }
      busyUs += duration;
      const [, entry] = entryOf(frame);
      entry.selfUs += duration;
      packages.set(entry.pkg, (packages.get(entry.pkg) ?? 0) + duration);
      // Total (inclusive) time: each function on the sample's stack, once.
      const onStack = new Set();
      for (let at = id; at !== undefined; at = parents.get(at)) {
        const f = nodes.get(at)?.callFrame;
        if (!f || IDLE.has(f.functionName)) continue;
        const [key] = entryOf(f);
        if (onStack.has(key)) continue;
        onStack.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + duration);
      }
    }
  }
  return { busyUs, idleUs, functions, packages, inclusive };
}

/** The project's own code and the MCP libraries: what the inclusive table shows by default. */
export const OWN_OR_MCP = /^(mcp-fleet |@modelcontextprotocol\/|tmcp$|@tmcp\/)/;

/** The `top` functions by total (inclusive) time among those whose package matches `only`. */
export function topInclusive(times, { top = 15, only = OWN_OR_MCP, ...per } = {}) {
  return [...times.inclusive.entries()]
    .map(([key, totalUs]) => ({ ...times.functions.get(key), totalUs }))
    .filter((f) => only.test(f.pkg))
    .sort((a, b) => b.totalUs - a.totalUs)
    .slice(0, top)
    .map((f) => {
      const share = f.totalUs / Math.max(1, times.busyUs);
      return { ...f, totalMs: f.totalUs / 1000, share, usPerCall: perCall(f.totalUs, share, per) };
    });
}

/**
 * µs per call of a share of the busy samples: the share of `cpuUsPerCall` (the CPU time /proc
 * measured) when given, since sampled time is wall time; else self time / `calls`.
 */
function perCall(selfUs, share, { calls, cpuUsPerCall }) {
  if (cpuUsPerCall !== undefined) return share * cpuUsPerCall;
  return calls ? selfUs / calls : NaN;
}

/** The `top` rows of `times` by self time: { name, location, pkg, selfMs, share, usPerCall }. */
export function topFunctions(times, { top = 25, ...per } = {}) {
  return [...times.functions.values()]
    .sort((a, b) => b.selfUs - a.selfUs)
    .slice(0, top)
    .map((f) => {
      const share = f.selfUs / Math.max(1, times.busyUs);
      return { ...f, selfMs: f.selfUs / 1000, share, usPerCall: perCall(f.selfUs, share, per) };
    });
}

export function topPackages(times, per = {}) {
  return [...times.packages.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([pkg, selfUs]) => {
      const share = selfUs / Math.max(1, times.busyUs);
      return { pkg, selfMs: selfUs / 1000, share, usPerCall: perCall(selfUs, share, per) };
    });
}

/** Text tables of the top functions and packages. */
export function renderSummary(times, { top = 25, calls, cpuUsPerCall, title = 'CPU profile' } = {}) {
  const per = (v) => (Number.isFinite(v) ? v.toFixed(1).padStart(9) : '        –');
  const perCallNote =
    cpuUsPerCall !== undefined
      ? `, µs/call = share × ${cpuUsPerCall.toFixed(0)} µs server CPU per call (/proc)`
      : calls
        ? ', µs/call = sampled self time / calls'
        : '';
  const lines = [
    `${title}: busy ${(times.busyUs / 1000).toFixed(0)} ms, idle ${(times.idleUs / 1000).toFixed(0)} ms${calls ? `, ${calls} calls` : ''}${perCallNote}`,
    '',
    '  self ms   share   µs/call  package                        function (location)',
  ];
  for (const f of topFunctions(times, { top, calls, cpuUsPerCall })) {
    lines.push(
      `${f.selfMs.toFixed(1).padStart(9)} ${(f.share * 100).toFixed(1).padStart(6)}% ${per(f.usPerCall)}  ${f.pkg.padEnd(30).slice(0, 30)} ${f.name}${f.location ? ` (${shortLocation(f.location)})` : ''}`,
    );
  }
  lines.push('', ' total ms   share   µs/call  package                        function, inclusive of what it calls (own code and MCP libraries)');
  for (const f of topInclusive(times, { calls, cpuUsPerCall })) {
    lines.push(
      `${f.totalMs.toFixed(1).padStart(9)} ${(f.share * 100).toFixed(1).padStart(6)}% ${per(f.usPerCall)}  ${f.pkg.padEnd(30).slice(0, 30)} ${f.name}${f.location ? ` (${shortLocation(f.location)})` : ''}`,
    );
  }
  lines.push('', '  self ms   share   µs/call  package');
  for (const p of topPackages(times, { calls, cpuUsPerCall }).slice(0, 15)) {
    lines.push(`${p.selfMs.toFixed(1).padStart(9)} ${(p.share * 100).toFixed(1).padStart(6)}% ${per(p.usPerCall)}  ${p.pkg}`);
  }
  return `${lines.join('\n')}\n`;
}

function shortLocation(location) {
  const modules = location.lastIndexOf('node_modules/');
  if (modules >= 0) return location.slice(modules + 'node_modules/'.length);
  const dist = location.indexOf('/dist/');
  return dist >= 0 ? location.slice(dist + 1) : location;
}

/**
 * One profile from several (one per process), keeping only the samples within `window`: node ids
 * renumbered under a common root, hit counts recounted, samples laid end to end.
 */
export function mergeProfiles(profiles, window = {}) {
  const root = { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [] };
  const nodes = [root];
  const samples = [];
  const timeDeltas = [];
  let nextId = 2;
  let startTime = Infinity;
  for (const profile of profiles) {
    const offset = nextId - 1;
    const kept = timedSamples(profile, window);
    const hits = new Map();
    for (const s of kept) hits.set(s.id, (hits.get(s.id) ?? 0) + 1);
    for (const node of profile.nodes) {
      const isRoot = node.callFrame.functionName === '(root)' && node.id === profile.nodes[0].id;
      if (isRoot) {
        root.children.push(...(node.children ?? []).map((c) => c + offset));
        continue;
      }
      nodes.push({ ...node, id: node.id + offset, hitCount: hits.get(node.id) ?? 0, children: (node.children ?? []).map((c) => c + offset) });
    }
    let previous;
    for (const s of kept) {
      samples.push(s.id + offset);
      timeDeltas.push(previous === undefined ? 0 : s.at - previous);
      previous = s.at;
    }
    if (kept.length > 0) startTime = Math.min(startTime, kept[0].at);
    nextId = Math.max(nextId, ...profile.nodes.map((n) => n.id + offset + 1));
  }
  if (!Number.isFinite(startTime)) startTime = 0;
  const endTime = startTime + timeDeltas.reduce((s, d) => s + d, 0);
  return { nodes, startTime, endTime, samples, timeDeltas };
}
