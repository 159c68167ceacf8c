#!/usr/bin/env node
// Summarises .cpuprofile files (node --cpu-prof): the top self-time functions and packages, as a
// text table; optionally µs per call, a time window, and a merged profile + flame graph.
// Usage: node bench/profile-summary.js <file.cpuprofile | dir>... [--top 25] [--calls N]
//          [--from µs --to µs] [--flamegraph out.html]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mergeProfiles, readProfiles, renderSummary, selfTimes } from './lib/cpuprofile.js';
import { flameGraph } from './lib/profile-run.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    calls: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    flamegraph: { type: 'string' },
  },
});
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile | dir>... [--top N] [--calls N] [--from µs --to µs] [--flamegraph out.html]\n');
  process.exit(2);
}
const loaded = readProfiles(positionals);
const window = { from: values.from ? Number(values.from) : undefined, to: values.to ? Number(values.to) : undefined };
const times = selfTimes(
  loaded.map((p) => p.profile),
  window,
);
process.stdout.write(
  renderSummary(times, { top: Number(values.top), calls: values.calls ? Number(values.calls) : undefined, title: `${loaded.length} profile(s)` }),
);
if (values.flamegraph) {
  const merged = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-prof-')), 'merged.cpuprofile');
  fs.writeFileSync(
    merged,
    JSON.stringify(
      mergeProfiles(
        loaded.map((p) => p.profile),
        window,
      ),
    ),
  );
  const out = flameGraph(merged, path.resolve(values.flamegraph));
  process.stderr.write(out ? `wrote ${out}\n` : '0x is not installed: no flame graph\n');
}
