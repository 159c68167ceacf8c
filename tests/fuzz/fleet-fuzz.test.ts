import { describe, expect, it } from 'vitest';
import { skipFleet } from '../fleet/available.js';
import { findings, runCampaign, summary } from './campaign.js';
import { fuzzSettings } from './settings.js';

const settings = fuzzSettings(process.env);

describe.skipIf(skipFleet)('fuzzing the fleet with both eras, next to well-behaved clients', () => {
  it(
    `${settings.cases} generated requests: no 5xx, no hang, every error a JSON-RPC body, nothing outside the key prefix, every key with a TTL, bystanders whole, replicas up`,
    async () => {
      const figures = await runCampaign({ ...settings, log: (line) => console.log(line) });
      console.log(summary(figures));
      const found = findings(figures);
      if (found.length > 0) console.log(`fuzz findings:\n${found.join('\n')}`);
      expect(found).toEqual([]);
      expect(figures.cases).toBeGreaterThanOrEqual(settings.cases);
    },
    settings.timeoutMs,
  );
});
