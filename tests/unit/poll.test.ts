import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/fleet/poll.js';

describe('pollUntil', () => {
  it('resolves with the first attempt that returns a value', async () => {
    let calls = 0;
    const value = await pollUntil(async () => (++calls === 3 ? 'ready' : undefined), { timeoutMs: 5000, intervalMs: 1, timedOut: () => new Error('late') });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('ends with the error of an attempt that throws, without waiting for the deadline', async () => {
    const started = Date.now();
    await expect(
      pollUntil(
        async () => {
          throw new Error('the process exited');
        },
        { timeoutMs: 60_000, timedOut: () => new Error('late') },
      ),
    ).rejects.toThrow('the process exited');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('fails with timedOut() once the deadline has passed', async () => {
    let calls = 0;
    await expect(
      pollUntil(async () => (calls++, undefined), { timeoutMs: 30, intervalMs: 5, timedOut: () => new Error(`gave up after ${calls} attempts`) }),
    ).rejects.toThrow(/gave up after \d+ attempts/);
    expect(calls).toBeGreaterThan(1);
  });
});
