import { describe, expect, it } from 'vitest';
import { skipFleet } from '../fleet/available.js';
import { runCampaign } from './campaign.js';
import { findings, summary } from './figures.js';
import { fuzzSettings } from './settings.js';

const settings = fuzzSettings(process.env);

describe.skipIf(skipFleet)('fuzzing the fleet with both eras, next to well-behaved clients', () => {
  it(
    `${settings.cases} generated runs (a request, or a few at once): no 5xx, no hang, every error a JSON-RPC body, nothing outside the key prefix, every key with a TTL, bystanders whole, replicas up`,
    async () => {
      const figures = await runCampaign({ ...settings, log: (line) => console.log(line) });
      console.log(summary(figures));
      const found = findings(figures);
      if (found.length > 0) console.log(`fuzz findings:\n${found.join('\n')}`);
      expect(found).toEqual([]);
      // A replay (FUZZ_PATH) runs just the case it names.
      if (settings.path === undefined) expect(figures.runs).toBe(settings.cases);
    },
    settings.timeoutMs,
  );
});
