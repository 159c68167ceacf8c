import { describe, expect, it } from 'vitest';
import { mergeProfiles, packageOf, renderSummary, selfTimes, topFunctions, topInclusive, type CpuProfile } from '../../bench/lib/cpuprofile.js';
import { classifyMonitor, commandsBetween, parseCommandStats, parseCommandUsec, parseInfo, parseResp, perCallBetween } from '../../bench/lib/redis-probe.js';

/** What the benchmark reads from Redis (RESP, INFO, MONITOR) and from .cpuprofile files, on canned input. */

describe('Redis replies', () => {
  it('parses RESP values and waits for the rest of an incomplete one', () => {
    expect(parseResp(Buffer.from('+OK\r\n'))).toEqual(['OK', 5]);
    expect(parseResp(Buffer.from(':42\r\n'))).toEqual([42, 5]);
    expect(parseResp(Buffer.from('$5\r\nhello\r\n'))).toEqual(['hello', 11]);
    expect(parseResp(Buffer.from('*2\r\n$1\r\n0\r\n*1\r\n$3\r\nkey\r\n'))).toEqual([['0', ['key']], 24]);
    expect(parseResp(Buffer.from('$5\r\nhel'))).toBeUndefined();
    expect(parseResp(Buffer.from('*2\r\n:1\r\n'))).toBeUndefined();
    expect(parseResp(Buffer.from('-ERR nope\r\n'))![0]).toEqual(new Error('ERR nope'));
  });

  it('reads INFO fields and commandstats, leaving the probe and readiness pings out of the count', () => {
    expect(parseInfo('# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.25\r\nrole:master\r\n')).toEqual({
      used_cpu_sys: 1.5,
      used_cpu_user: 0.25,
      role: 'master',
    });
    const before = parseCommandStats('cmdstat_evalsha:calls=10,usec=1\r\ncmdstat_info:calls=2,usec=1\r\n');
    const after = parseCommandStats(
      'cmdstat_evalsha:calls=30,usec=1\r\ncmdstat_hgetall:calls=20,usec=1\r\ncmdstat_info:calls=9,usec=1\r\ncmdstat_ping:calls=7,usec=1\r\n',
    );
    expect(after).toEqual({ evalsha: 30, hgetall: 20, info: 9, ping: 7 });
    expect(commandsBetween(before, after)).toBe(40);
  });

  it('attributes server time per call to each command, probe and pings left out', () => {
    const before = parseCommandUsec('cmdstat_evalsha:calls=10,usec=50,usec_per_call=5.00\r\ncmdstat_info:calls=2,usec=9\r\n');
    const after = parseCommandUsec(
      'cmdstat_evalsha:calls=30,usec=150,usec_per_call=5.00\r\ncmdstat_hgetall:calls=20,usec=12\r\ncmdstat_info:calls=9,usec=40\r\ncmdstat_ping:calls=7,usec=3\r\n',
    );
    expect(after).toEqual({ evalsha: 150, hgetall: 12, info: 40, ping: 3 });
    expect(perCallBetween(before, after, 20)).toEqual({ evalsha: 5, hgetall: 0.6 });
  });

  it('tells commands a client sent from those a script ran in a MONITOR feed', () => {
    const lines = [
      '+OK',
      '+1764633600.000001 [0 127.0.0.1:50000] "evalsha" "abc" "1" "mcp-fleet:session:{x}"',
      '+1764633600.000002 [0 lua] "HGETALL" "mcp-fleet:session:{x}"',
      '+1764633600.000003 [0 lua] "PEXPIRE" "mcp-fleet:session:{x}" "1000"',
      '+1764633600.000004 [0 127.0.0.1:50001] "PING"',
      '+1764633600.000005 [0 unix:/tmp/redis.sock] "publish" "c" "m"',
      '+1764633600.000006 [0 127.0.0.1:50002] "set" "mcp-fleet:instance-alive:AbCdEfGhIjKl" "1764633600000" "PX" "3000"',
      '+1764633600.000007 [0 127.0.0.1:50002] "smembers" "mcp-fleet:{tasks-index}owners"',
    ];
    expect(classifyMonitor(lines)).toEqual({
      client: 2,
      script: 2,
      byCommand: { evalsha: 1, 'hgetall (in script)': 1, 'pexpire (in script)': 1, publish: 1 },
    });
  });
});

/** Two processes' profiles: root → handler → (work | (garbage collector)), (idle) beside. */
function profile(startTime: number, samples: number[], timeDeltas: number[], url = 'file:///app/node_modules/@scope/pkg/dist/index.js'): CpuProfile {
  const frame = (functionName: string, frameUrl = '', lineNumber = -1) => ({ functionName, scriptId: '1', url: frameUrl, lineNumber, columnNumber: 0 });
  return {
    startTime,
    endTime: startTime + timeDeltas.reduce((s, d) => s + d, 0),
    nodes: [
      { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2, 5] },
      { id: 2, callFrame: frame('handler', 'file:///app/dist/server/app.js', 9), hitCount: 0, children: [3, 4] },
      { id: 3, callFrame: frame('work', url, 41), hitCount: 0 },
      { id: 4, callFrame: frame('(garbage collector)'), hitCount: 0 },
      { id: 5, callFrame: frame('(idle)'), hitCount: 0 },
    ],
    samples,
    timeDeltas,
  };
}

describe('CPU profiles', () => {
  // Samples at t = 1000, 1100, 1200, 1300, 1400; each lasts until the next one.
  const a = profile(1000, [3, 3, 4, 5, 2], [0, 100, 100, 100, 100]);
  const b = profile(5000, [3, 2], [0, 50]);

  it('sums self time per function over profiles, idle apart', () => {
    const times = selfTimes([a, b]);
    expect(times.busyUs).toBe(100 + 100 + 100 + 50);
    expect(times.idleUs).toBe(100);
    const top = topFunctions(times, { calls: 10 });
    expect(top[0]).toMatchObject({ name: 'work', pkg: '@scope/pkg', selfMs: 0.25, usPerCall: 25 });
    expect(top.map((f) => f.name)).toEqual(['work', '(garbage collector)', 'handler']);
    expect(times.packages.get('(garbage collector)')).toBe(100);
  });

  it("counts each function on a sample's stack once for its total time", () => {
    const times = selfTimes([a, b]);
    // handler is on the stack of every busy sample: work, gc and its own.
    expect(times.inclusive.get('handler /app/dist/server/app.js:10')).toBe(350);
    expect(times.inclusive.get('work /app/node_modules/@scope/pkg/dist/index.js:42')).toBe(250);
    expect(topInclusive(times, { calls: 10 }).map((f) => [f.name, f.usPerCall])).toEqual([['handler', 35]]);
  });

  it('keeps only the samples inside a window', () => {
    const times = selfTimes([a, b], { from: 1150, to: 1350 });
    expect(times.busyUs).toBe(100);
    expect(times.idleUs).toBe(100);
    expect([...times.functions.entries()].filter(([, f]) => f.selfUs > 0).map(([key]) => key)).toEqual(['(garbage collector)']);
    expect(times.inclusive.get('handler /app/dist/server/app.js:10')).toBe(100);
  });

  it('gives µs per call as a share of the measured CPU per call when it is known', () => {
    const [first] = topFunctions(selfTimes([a]), { cpuUsPerCall: 300 });
    expect(first!.share).toBeCloseTo(2 / 3);
    expect(first!.usPerCall).toBeCloseTo(200);
    expect(renderSummary(selfTimes([a]), { cpuUsPerCall: 300, title: 't' })).toMatch(/200\.0\s+@scope\/pkg\s+work \(@scope\/pkg\/dist\/index\.js:42\)/);
  });

  it('names where a script belongs', () => {
    expect(packageOf('file:///x/node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(packageOf('file:///x/node_modules/@modelcontextprotocol/server/dist/a.mjs')).toBe('@modelcontextprotocol/server');
    expect(packageOf('node:internal/streams/writable')).toBe('node: (core)');
    expect(packageOf('file:///work/dist/server/legacy/sse.js')).toBe('mcp-fleet dist/server');
    expect(packageOf('')).toBe('(native / V8)');
  });

  it('merges profiles under one root, renumbered, with hit counts of the kept samples', () => {
    const merged = mergeProfiles([a, b], { from: 1000, to: 5000 });
    // a's nodes move up by 1, b's by 6; each profile's own root is folded into the new one.
    expect(merged.nodes.map((n) => n.id)).toEqual([1, 3, 4, 5, 6, 8, 9, 10, 11]);
    expect(merged.nodes[0]!.children).toEqual([3, 6, 8, 11]);
    expect(merged.nodes.find((n) => n.id === 3)!.children).toEqual([4, 5]);
    // b's second sample (t = 5050) falls outside the window.
    expect(merged.samples).toEqual([4, 4, 5, 6, 3, 9]);
    expect(merged.nodes.find((n) => n.id === 4)!.hitCount).toBe(2);
    expect(merged.nodes.find((n) => n.id === 9)!.hitCount).toBe(1);
    expect(merged.timeDeltas).toEqual([0, 100, 100, 100, 100, 0]);
    expect(merged.startTime).toBe(1000);
  });
});
