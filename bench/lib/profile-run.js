// npm run bench -- --cpu-prof: each scenario on a fresh target whose server processes run under
// node --cpu-prof; after the target stops, its profiles are cut to the measured window and
// summarised (top self-time functions and packages, µs per call), merged into one profile, and
// drawn as a flame graph (0x).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { mergeProfiles, readProfiles, renderSummary, selfTimes } from './cpuprofile.js';
import { measureLoad } from './measure.js';
import { startTarget } from './targets.js';

const require = createRequire(import.meta.url);

/** Writes `<out>.flamegraph.html` from a .cpuprofile with 0x; returns its path, or undefined when 0x is not installed. */
export function flameGraph(profileFile, out) {
  let cmd;
  try {
    cmd = path.join(path.dirname(require.resolve('0x/package.json')), 'cmd.js');
  } catch {
    return undefined;
  }
  execFileSync(process.execPath, [cmd, '--visualize-cpu-profile', profileFile, '--output-html', out, '--title', path.basename(out, '.html')], {
    stdio: 'ignore',
  });
  return out;
}

export async function profileScenarios(scenarios, settings, dir, log) {
  fs.mkdirSync(dir, { recursive: true });
  for (const scenario of scenarios) {
    const name = scenario.id.replaceAll('/', '_');
    const raw = path.join(dir, name);
    fs.rmSync(raw, { recursive: true, force: true });
    log(`profiling ${scenario.id}`);
    const target = await startTarget(scenario, { profileDir: raw });
    let measured;
    try {
      measured = await measureLoad(target, scenario.era, { ...settings, censusCalls: 0 });
    } finally {
      await target.stop();
    }
    const profiles = readProfiles([raw]).map((p) => p.profile);
    if (profiles.length === 0) throw new Error(`no .cpuprofile was written to ${raw}`);
    const times = selfTimes(profiles, measured.windowUs);
    const title = `${scenario.id}: ${profiles.length} server process(es), measured window, ${measured.callsPerSecond.toFixed(0)} calls/s under the profiler`;
    const summary = renderSummary(times, { calls: measured.calls, cpuUsPerCall: measured.serverCpuUsPerCall, title });
    fs.writeFileSync(path.join(dir, `${name}.txt`), summary);
    const merged = path.join(dir, `${name}.cpuprofile`);
    fs.writeFileSync(merged, JSON.stringify(mergeProfiles(profiles, measured.windowUs)));
    const html = flameGraph(merged, path.join(dir, `${name}.flamegraph.html`));
    process.stdout.write(`${summary}\n`);
    log(`wrote ${path.join(dir, `${name}.txt`)}, ${merged}${html ? ` and ${html}` : ''} (raw profiles in ${raw})`);
  }
}
