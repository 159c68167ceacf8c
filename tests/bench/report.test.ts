import { describe, expect, it } from 'vitest';
import { checkTargets, renderMarkdown, summarise, tableRows, TABLE_HEADER, type Results } from '../../bench/lib/report.js';
import { roundOrder } from '../../bench/lib/schedule.js';
import { latencySummary, median, percentile, ratio } from '../../bench/lib/stats.js';

/** The benchmark's table, JSON summary and ratio code on canned rounds. */

const probe = (p50: number, delivered = 10, samples = 10) => ({ samples, delivered, latency: { count: delivered, p50, p99: p50 * 2, max: p50 * 3 } });

function canned(): Results {
  const fleetLegacy = 'mcp-fleet/redis-3-lb/legacy';
  const tmcpLegacy = 'tmcp/redis-3-lb/legacy';
  const fleetModern = 'mcp-fleet/redis-3-lb/modern';
  const sdk = 'sdk/memory-3-lb/modern';
  return {
    date: '2026-12-01T00:00:00.000Z',
    machine: { nproc: 2, cpuModel: 'Test CPU', node: 'v20.0.0', os: 'Linux 6', loadAverage: [1, 2, 3] },
    settings: { rounds: 3, clients: 50, warmupMs: 1000, measureMs: 3000 },
    scenarios: [
      { id: fleetLegacy, impl: 'mcp-fleet', setup: 'redis-3-lb', era: 'legacy' },
      { id: fleetModern, impl: 'mcp-fleet', setup: 'redis-3-lb', era: 'modern' },
      { id: tmcpLegacy, impl: 'tmcp', setup: 'redis-3-lb', era: 'legacy' },
      { id: sdk, impl: 'sdk', setup: 'memory-3-lb', era: 'modern' },
    ],
    // The machine slows down in round 2: every scenario drops, the ratios within the round hold.
    rounds: [
      {
        scenarios: {
          [fleetLegacy]: { callsPerSecond: 1000, serverCpuUsPerCall: 800, redisCpuUsPerCall: 38, redisRoundTripsPerCall: 1, p50Ms: 4 },
          [fleetModern]: { callsPerSecond: 900, serverCpuUsPerCall: 900, redisRoundTripsPerCall: 0 },
          [tmcpLegacy]: { callsPerSecond: 1250, serverCpuUsPerCall: 640 },
          [sdk]: { callsPerSecond: 1000, serverCpuUsPerCall: 700 },
        },
        notifications: { [fleetLegacy]: { same: probe(2), cross: probe(2.5) }, [fleetModern]: { same: probe(1), cross: probe(3) } },
      },
      {
        scenarios: {
          [fleetLegacy]: { callsPerSecond: 500, serverCpuUsPerCall: 900, redisCpuUsPerCall: 40, redisRoundTripsPerCall: 1, p50Ms: 9 },
          [fleetModern]: { callsPerSecond: 450, serverCpuUsPerCall: 950, redisRoundTripsPerCall: 0 },
          [tmcpLegacy]: { callsPerSecond: 625, serverCpuUsPerCall: 720 },
          [sdk]: { callsPerSecond: 500, serverCpuUsPerCall: 760 },
        },
        notifications: { [fleetLegacy]: { same: probe(4), cross: probe(4.2) }, [fleetModern]: { same: probe(1), cross: probe(2.5) } },
      },
      {
        scenarios: {
          [fleetLegacy]: { callsPerSecond: 1100, serverCpuUsPerCall: 780, redisCpuUsPerCall: 36, redisRoundTripsPerCall: 1, p50Ms: 4.5 },
          [fleetModern]: { callsPerSecond: 1000, serverCpuUsPerCall: 880, redisRoundTripsPerCall: 0 },
          [tmcpLegacy]: { callsPerSecond: 1000, serverCpuUsPerCall: 650 },
          [sdk]: { callsPerSecond: 1000, serverCpuUsPerCall: 690 },
        },
        notifications: { [fleetLegacy]: { same: probe(2), cross: probe(2.2, 9) }, [fleetModern]: { same: probe(1.2), cross: probe(1.4) } },
      },
    ],
  };
}

describe('stats', () => {
  it('takes nearest-rank percentiles and medians of finite values', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(percentile([], 0.5)).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, undefined, 7])).toBe(7);
    expect(latencySummary([3, 1, 2])).toEqual({ count: 3, p50: 2, p99: 3, max: 3 });
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(undefined, 2)).toBeNaN();
  });
});

describe('summarise', () => {
  const results = canned();
  const summary = summarise(results);
  const fleet = summary['mcp-fleet/redis-3-lb/legacy']!;

  it('takes medians over rounds', () => {
    expect(fleet.medians.callsPerSecond).toBe(1000);
    expect(fleet.medians.serverCpuUsPerCall).toBe(800);
    expect(fleet.medians.redisCpuUsPerCall).toBe(38);
    expect(fleet.medians.rssMbPerReplica).toBeNaN();
  });

  it('takes ratios within each round, then their median (not the ratio of medians)', () => {
    // Within rounds: 0.8, 0.8, 1.1 → 0.8. The ratio of medians would be 1000 / 1000 = 1.
    expect(fleet.ratios.tmcp!.id).toBe('tmcp/redis-3-lb/legacy');
    expect(fleet.ratios.tmcp!.callsPerSecond).toBeCloseTo(0.8);
    expect(fleet.ratios.tmcp!.serverCpuUsPerCall).toBeCloseTo(1.25);
    expect(summary['mcp-fleet/redis-3-lb/modern']!.ratios.sdk!.callsPerSecond).toBeCloseTo(0.9);
    // References themselves are compared with nothing.
    expect(summary['tmcp/redis-3-lb/legacy']!.ratios).toEqual({});
  });

  it('takes cross minus same within each round and counts deliveries', () => {
    const n = fleet.notifications!;
    expect(n.sameP50Ms).toBe(2);
    expect(n.crossP50Ms).toBe(2.5);
    expect(n.crossMinusSameMs).toBeCloseTo(0.2);
    expect(n.delivered.cross).toEqual({ delivered: 29, samples: 30 });
  });

  it('judges the issue targets on the summary', () => {
    const checks = checkTargets(summary);
    const find = (text: string) => checks.find((c) => c.target.includes(text));
    expect(find('calls/s >= 1.0x tmcp')).toMatchObject({ met: false });
    expect(find('server CPU/call <= 1.0x tmcp')).toMatchObject({ met: false });
    expect(find('legacy redis-3-lb: Redis CPU')).toMatchObject({ measured: 38, met: false });
    expect(find('legacy redis-3-lb: <= 1 Redis round trip')).toMatchObject({ measured: 1, met: true });
    expect(find('modern redis-3-lb: 0 Redis round trips')).toMatchObject({ measured: 0, met: true });
    expect(find('modern redis-3-lb: calls/s >= 0.9x')).toMatchObject({ met: true });
    expect(find('modern: cross-replica')).toMatchObject({ met: false });
    expect(find('legacy: cross-replica')).toMatchObject({ met: true });
    // Nothing measured on one replica: no check invented for it.
    expect(find('redis-1')).toBeUndefined();
  });

  it('renders one row per scenario with dashes for what was not measured, and the Markdown snippet', () => {
    const rows = tableRows(results, summary);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.length === TABLE_HEADER.length)).toBe(true);
    const [legacy] = rows;
    expect(legacy!.slice(0, 2)).toEqual(['mcp-fleet/redis-3-lb/legacy', '1000']);
    expect(legacy![TABLE_HEADER.indexOf('notify cross p50 ms')]).toBe('2.50 (29/30)');
    expect(legacy![TABLE_HEADER.indexOf('calls/s × tmcp')]).toBe('0.80×');
    expect(legacy![TABLE_HEADER.indexOf('LB CPU µs/call')]).toBe('–');
    const markdown = renderMarkdown(results, summary, checkTargets(summary));
    expect(markdown).toContain('2026-12-01T00:00:00.000Z on 2 × Test CPU, Node v20.0.0');
    expect(markdown).toContain(`| ${TABLE_HEADER.join(' | ')} |`);
    expect(markdown).toContain('| modern redis-3-lb: 0 Redis round trips per call | 0.00 | yes |');
  });
});

describe('the order of a round', () => {
  const all = ['mcp-fleet', 'tmcp', 'sdk'].flatMap((impl) =>
    (impl === 'sdk' ? ['memory-1', 'memory-3-lb'] : ['memory-1', 'redis-3-lb']).flatMap((setup) =>
      (impl === 'sdk' ? ['modern'] : ['legacy', 'modern']).map((era) => ({ id: `${impl}/${setup}/${era}`, impl, setup, era })),
    ),
  );
  const ids = (round: number) => roundOrder(all, round).map((s) => s.id);

  it('runs each mcp-fleet scenario next to its references, every scenario once', () => {
    expect(ids(0)).toEqual([
      'mcp-fleet/memory-1/legacy',
      'tmcp/memory-1/legacy',
      'mcp-fleet/memory-1/modern',
      'tmcp/memory-1/modern',
      'sdk/memory-1/modern',
      'mcp-fleet/redis-3-lb/legacy',
      'tmcp/redis-3-lb/legacy',
      'mcp-fleet/redis-3-lb/modern',
      'tmcp/redis-3-lb/modern',
      'sdk/memory-3-lb/modern',
    ]);
    for (const round of [1, 2, 3, 4]) expect([...ids(round)].sort()).toEqual([...ids(0)].sort());
  });

  it('rotates the groups and flips the order within them every other round', () => {
    expect(ids(1).slice(0, 5)).toEqual([
      'sdk/memory-1/modern',
      'tmcp/memory-1/modern',
      'mcp-fleet/memory-1/modern',
      'tmcp/redis-3-lb/legacy',
      'mcp-fleet/redis-3-lb/legacy',
    ]);
    expect(ids(1).slice(-2)).toEqual(['tmcp/memory-1/legacy', 'mcp-fleet/memory-1/legacy']);
    expect(ids(4)).toEqual(ids(0));
  });
});

describe('the floor, the 50-tool workload and a baseline build', () => {
  const scenario = (id: string) => {
    const [impl, setup, era] = id.split('/') as [string, string, string];
    return { id, impl, setup, era };
  };
  const ids = [
    'mcp-fleet/redis-3-lb/modern',
    'mcp-fleet/memory-1/modern',
    'mcp-fleet-50tools/memory-1/modern',
    'tmcp/redis-3-lb/modern',
    'floor/memory-1/modern',
    'floor/memory-3-lb/modern',
    'baseline/redis-3-lb/modern',
  ];
  const cpu: Record<string, number> = {
    'mcp-fleet/redis-3-lb/modern': 400,
    'mcp-fleet/memory-1/modern': 300,
    'mcp-fleet-50tools/memory-1/modern': 320,
    'tmcp/redis-3-lb/modern': 500,
    'floor/memory-1/modern': 60,
    'floor/memory-3-lb/modern': 80,
    'baseline/redis-3-lb/modern': 800,
  };
  const results: Results = {
    ...canned(),
    scenarios: ids.map(scenario),
    rounds: [{ scenarios: Object.fromEntries(ids.map((id) => [id, { callsPerSecond: 100_000 / cpu[id]!, serverCpuUsPerCall: cpu[id]! }])) }],
  };
  const summary = summarise(results);

  it('compares every server with the floor of as many replicas, the same era', () => {
    expect(summary['mcp-fleet/redis-3-lb/modern']!.ratios.floor).toMatchObject({ id: 'floor/memory-3-lb/modern', serverCpuUsPerCall: 5 });
    expect(summary['tmcp/redis-3-lb/modern']!.ratios.floor!.serverCpuUsPerCall).toBeCloseTo(6.25);
    expect(summary['mcp-fleet/memory-1/modern']!.ratios.floor!.serverCpuUsPerCall).toBe(5);
    expect(summary['floor/memory-1/modern']!.ratios).toEqual({});
    const row = tableRows(results, summary).find((r) => r[0] === 'tmcp/redis-3-lb/modern')!;
    expect(row[TABLE_HEADER.indexOf('CPU × floor')]).toBe('6.25×');
  });

  it('compares the 50-tool workload with the reference one and this build with the baseline, and judges the 10 % target', () => {
    expect(summary['mcp-fleet-50tools/memory-1/modern']!.ratios.reference!.serverCpuUsPerCall).toBeCloseTo(320 / 300);
    expect(summary['mcp-fleet/redis-3-lb/modern']!.ratios.baseline!.serverCpuUsPerCall).toBe(0.5);
    const checks = checkTargets(summary);
    expect(checks.find((c) => c.target.includes('modern memory-1, 50 tools'))).toMatchObject({ met: true });
    expect(checks.find((c) => c.target === 'modern redis-3-lb: server CPU/call <= 1.0x tmcp')).toMatchObject({ measured: 0.8, met: true });
    const markdown = renderMarkdown(results, summary, checks);
    expect(markdown).toContain('| mcp-fleet/redis-3-lb/modern | baseline/redis-3-lb/modern | 400 | 800 | 2.00× | 0.50× |');
  });
});
