import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { initialize, startToolCall } from '../support/raw-mcp.js';

/** Per-session limits hold per session, whatever replica each request of the session lands on. */
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ replicas: 3, env: { LOG_LEVEL: 'error', MAX_PENDING_CLIENT_REQUESTS: '16' } });
});

afterAll(async () => {
  await fleet?.stop();
});

describe('per-session limits through the load balancer', () => {
  it('MAX_PENDING_CLIENT_REQUESTS: 65 unanswered sampling calls of one session spread over 3 replicas put at most 16 requests out at once', async () => {
    const session = await initialize(fleet.url, { sampling: {} });
    const calls = Array.from({ length: 65 }, (_, i) => startToolCall(fleet.url, session, 1000 + i, 'sample', { prompt: `call ${i}` }));
    const asked = (call: (typeof calls)[number]) => call.messages().some((m) => m.method === 'sampling/createMessage');
    try {
      // Every call either has its sampling request out (and waits) or was refused (its answer ended it).
      await expect.poll(() => calls.filter((call) => asked(call) || call.ended).length, { timeout: 60_000, interval: 100 }).toBe(65);
      const out = calls.filter(asked);
      const servedBy = new Set(out.map((call) => String(call.messages().find((m) => m.method === 'sampling/createMessage')!.id).split('~')[0]));
      console.log(`sampling requests out at once: ${out.length} of 65, sent by ${servedBy.size} replicas`);
      expect(out.length).toBe(16);
      expect(calls.filter((call) => call.ended && !asked(call))).toHaveLength(49);
      // The balancer spread them: the limit held across replicas, not on each.
      expect(servedBy.size).toBeGreaterThan(1);
    } finally {
      for (const call of calls) call.abort.abort();
    }
  }, 120_000);
});
