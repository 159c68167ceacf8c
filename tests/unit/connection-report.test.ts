import { describe, expect, it } from 'vitest';
import { ConnectionReport, redisAddress } from '../../src/backends/redis/connection-report.js';
import { redisSettings } from '../support/redis-settings.js';

describe('redisAddress', () => {
  it('names the address tried, without the password', () => {
    const address = redisAddress(redisSettings('redis://fleet:s3cret-pass@redis.internal:6380/2'));
    expect(address).toBe('redis://fleet@redis.internal:6380/2');
    expect(address).not.toContain('s3cret');
  });

  it('names Sentinels and Cluster nodes', () => {
    expect(redisAddress(redisSettings('redis://x', { url: undefined, sentinels: [{ host: 's1', port: 26379 }], sentinelName: 'main' }))).toBe(
      'sentinels s1:26379 (master main)',
    );
    expect(
      redisAddress(
        redisSettings('redis://x', {
          url: undefined,
          clusterNodes: [
            { host: 'n1', port: 7000 },
            { host: 'n2', port: 7001 },
          ],
        }),
      ),
    ).toBe('cluster n1:7000,n2:7001');
  });
});

describe('ConnectionReport', () => {
  function report() {
    let now = 0;
    const said: Array<[string, Record<string, unknown>]> = [];
    const r = new ConnectionReport({
      address: 'redis://h:1',
      warn: (m, f) => said.push([m, f]),
      info: (m, f) => said.push([m, f]),
      repeatMs: 30_000,
      now: () => now,
    });
    return { r, said, advance: (ms: number) => (now += ms) };
  }

  it('says a problem at once with the address, then again at most once per interval while it lasts', () => {
    const { r, said, advance } = report();
    for (let i = 0; i < 100; i++) {
      r.failed('Redis is unreachable');
      advance(1000); // a failure a second: 100 s
    }
    expect(said.map(([m]) => m)).toEqual([
      'redis connection problem',
      'redis connection problem continues',
      'redis connection problem continues',
      'redis connection problem continues',
    ]);
    expect(said[0]![1]).toEqual({ reason: 'Redis is unreachable', address: 'redis://h:1' });
    expect(said[1]![1]).toMatchObject({ forSeconds: 30, failures: 31 });
  });

  it('says a new reason at once, and the recovery once', () => {
    const { r, said, advance } = report();
    r.failed('Redis is unreachable');
    advance(100);
    r.failed('Redis is loading its data set');
    advance(5000);
    r.ready();
    r.ready();
    expect(said.map(([m, f]) => `${m} ${String(f.reason ?? f.afterSeconds)}`)).toEqual([
      'redis connection problem Redis is unreachable',
      'redis connection problem Redis is loading its data set',
      'redis connection ready 5',
    ]);
    expect(r.problem).toBeUndefined();
  });
});
