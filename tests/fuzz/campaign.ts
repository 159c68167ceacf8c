import fc from 'fast-check';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { post, request } from '../support/raw-mcp.js';
import { fuzzRun } from './arbitraries/index.js';
import { LEGACY_VERSIONS } from './arbitraries/values.js';
import { LegacyBystander, ModernBystander } from './bystanders.js';
import { KEY_PREFIX, newFigures, type Figures } from './figures.js';
import { Pools } from './pools.js';
import { RedisWatch } from './redis-watch.js';
import { CaseRunner } from './runner.js';

const BYSTANDER_PACE_MS = 200;
/** Shrinking re-sends cases against a live fleet: enough tries to trim a run, not to stall a campaign. */
const MAX_SHRINKS = 60;

export interface CampaignOptions {
  /** fast-check runs: most send one case, some a few at once. */
  cases: number;
  seed: number;
  /** fast-check's replay path of a reported failure. */
  path?: string;
  /** Count every violation and carry on, instead of stopping at the first and shrinking it. */
  keepGoing: boolean;
  log: (line: string) => void;
  progressEvery: number;
  /** Where the replicas' and the balancer's logs go (kept); a temporary directory when unset. */
  logDir?: string;
}

/** The fuzzer's own sessions, one per legacy revision with and without client capabilities. */
async function seedSessions(url: string, pools: Pools): Promise<void> {
  for (const version of LEGACY_VERSIONS) {
    for (const capabilities of [{}, { sampling: {}, elicitation: {}, roots: { listChanged: true } }]) {
      const answer = await post(url, request('initialize', { protocolVersion: version, capabilities, clientInfo: { name: 'fuzzer', version: '1' } }));
      const id = answer.headers.get('mcp-session-id');
      if (answer.status !== 200 || !id) throw new Error(`the fuzzer's session did not start: ${answer.status}`);
      await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, id, { 'MCP-Protocol-Version': version });
      pools.add('session', id);
    }
  }
}

async function notReady(fleet: Fleet): Promise<string[]> {
  const states = await Promise.all(
    fleet.replicas.map(async (r) => {
      if (!r.running) return `${r.name} is not running`;
      const status = await fetch(r.readyUrl, { signal: AbortSignal.timeout(5000) }).then(
        (res) => res.status,
        (e: Error) => e.message,
      );
      return status === 200 ? undefined : `${r.name} /readyz: ${status}`;
    }),
  );
  return states.filter((s): s is string => s !== undefined);
}

/**
 * A fuzz campaign through a local fleet (three replicas, Redis, HAProxy): generated requests of
 * both eras, with a legacy and a modern bystander going about their business. Every answer is
 * judged as it comes; Redis, the bystanders and the replicas are audited at the end.
 */
export async function runCampaign(options: CampaignOptions): Promise<Figures> {
  const started = performance.now();
  options.log(`fuzz: seed ${options.seed}, ${options.cases} runs${options.path ? `, replaying path ${options.path}` : ''}`);
  const fleet = await startFleet({ replicas: 3, logDir: options.logDir, env: { LOG_LEVEL: options.logDir ? 'debug' : 'warn', REDIS_KEY_PREFIX: KEY_PREFIX } });
  const watch = await RedisWatch.start(fleet.storeUrl, KEY_PREFIX);
  const figures = newFigures(options.seed);
  const bystanders: Array<LegacyBystander | ModernBystander> = [];
  try {
    const pools = new Pools();
    await seedSessions(fleet.url, pools);
    const legacy = await LegacyBystander.connect(fleet.url, BYSTANDER_PACE_MS);
    bystanders.push(legacy, await ModernBystander.connect(fleet.url, BYSTANDER_PACE_MS));
    for (const b of bystanders) b.start();
    const runner = new CaseRunner({ fleet, pools, watch, bystanders, figures, keepGoing: options.keepGoing });

    const property = fc.asyncProperty(fc.limitShrink(fuzzRun, MAX_SHRINKS), async (cases) => {
      await runner.run(cases);
      if (figures.runs % options.progressEvery === 0) {
        const bad = Object.values(figures.violations).reduce((a, b) => a + b, 0);
        options.log(`fuzz: ${figures.runs} runs, ${figures.cases} cases, ${bad} violations, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    });
    const details = await fc.check(property, {
      numRuns: options.cases,
      seed: options.seed,
      path: options.path,
      endOnFailure: options.keepGoing,
      includeErrorInReport: true,
    });
    figures.learned = { ...pools.learned };
    if (details.failed) {
      figures.failure = fc.defaultReportMessage(details) ?? 'the property failed';
      figures.replayPath = details.counterexamplePath ?? undefined;
    }

    // Let late publishes and key writes arrive before the audit.
    await new Promise((resolve) => setTimeout(resolve, 500));
    figures.bystanders = await Promise.all(bystanders.map((b) => b.stop()));
    figures.legacyStreamOpens = legacy.streamsOpened;
    const late = watch.drain();
    figures.violations['foreign-key-or-channel'] += late.length;
    figures.redis = { ...(await watch.audit()), channelsPublished: watch.published };
    figures.redis.foreignKeys.push(...late);
    figures.replicasNotReady = await notReady(fleet);
  } finally {
    await Promise.all(bystanders.map((b) => b.stop().catch(() => undefined)));
    await watch.stop();
    await fleet.stop();
    figures.durationMs = performance.now() - started;
  }
  return figures;
}
