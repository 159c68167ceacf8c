import fc from 'fast-check';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { post, request } from '../support/raw-mcp.js';
import { fuzzCase } from './arbitraries/index.js';
import { LEGACY_VERSIONS } from './arbitraries/values.js';
import { LegacyBystander, ModernBystander, type BystanderReport } from './bystanders.js';
import { describeRequest, resolveCase, type FuzzCase } from './case.js';
import { exchange, needsSocket, type Endpoint, type Outcome } from './exchange.js';
import { Pools } from './pools.js';
import { judgeAnswer, LOST_EARLY_ANSWER, refusedByBalancer, type Violation, type ViolationKind } from './properties.js';
import { RedisWatch, type KeyAudit } from './redis-watch.js';

export const KEY_PREFIX = 'fuzz-fleet:';
const BYSTANDER_PACE_MS = 200;
/** Shrinking re-sends cases against a live fleet: enough tries to trim a case, not to stall a run. */
const MAX_SHRINKS = 60;
const EXAMPLES_PER_KIND = 3;

export interface CampaignOptions {
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

export interface Figures {
  seed: number;
  cases: number;
  durationMs: number;
  byFamily: Record<string, number>;
  byStatus: Record<string, number>;
  /** How requests went out: fetch, a hand-written request, or a hand-written one after fetch refused it. */
  via: Record<string, number>;
  /** Streams the test closed itself: open streams (GET, listen) and POST streams waiting for this client's answer. */
  closedByTest: Record<string, number>;
  refusedByBalancer: number;
  /** Answers to large requests lost to a reset (the known defect LOST_EARLY_ANSWER): counted, not failed on. */
  lostEarlyAnswers: number;
  slowestAnswerMs: number;
  /** What the fleet handed out that later cases could send back (sessions, event ids, requestStates, server request ids). */
  learned: Record<string, number>;
  violations: Record<ViolationKind, number>;
  examples: Array<Violation & { request: string }>;
  /** fast-check's report when a property failed (seed, path, shrunk counterexample). */
  failure: string | undefined;
  /** The last case that failed: after shrinking, the smallest one found, as a request to replay. */
  lastFailure: string | undefined;
  replayPath: string | undefined;
  redis: KeyAudit & { channelsPublished: number };
  bystanders: BystanderReport[];
  /** The legacy bystander's GET stream opens: 1 when it never had to reconnect. */
  legacyStreamOpens: number;
  replicasNotReady: string[];
}

const VIOLATION_KINDS: ViolationKind[] = ['5xx', 'hang', 'bodiless-error', 'malformed-answer', 'no-answer', 'foreign-key-or-channel', 'bystander-error', 'replica-down'];

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
      const status = await fetch(r.readyUrl, { signal: AbortSignal.timeout(5000) }).then((res) => res.status, (e: Error) => e.message);
      return status === 200 ? undefined : `${r.name} /readyz: ${status}`;
    }),
  );
  return states.filter((s): s is string => s !== undefined);
}

const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

/**
 * A fuzz campaign through a local fleet (three replicas, Redis, HAProxy): `cases` generated
 * requests of both eras, sent one after the other, with a legacy and a modern bystander going about
 * their business. Every answer is judged as it comes; Redis, the bystanders and the replicas are
 * audited at the end.
 */
export async function runCampaign(options: CampaignOptions): Promise<Figures> {
  const started = performance.now();
  options.log(`fuzz: seed ${options.seed}, ${options.cases} cases${options.path ? `, replaying path ${options.path}` : ''}`);
  const fleet = await startFleet({ replicas: 3, logDir: options.logDir, env: { LOG_LEVEL: options.logDir ? 'debug' : 'warn', REDIS_KEY_PREFIX: KEY_PREFIX } });
  const watch = await RedisWatch.start(fleet.redisUrl, KEY_PREFIX);
  const figures: Figures = {
    seed: options.seed,
    cases: 0,
    durationMs: 0,
    byFamily: {},
    byStatus: {},
    via: {},
    closedByTest: {},
    refusedByBalancer: 0,
    lostEarlyAnswers: 0,
    slowestAnswerMs: 0,
    learned: {},
    violations: Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>,
    examples: [],
    failure: undefined,
    lastFailure: undefined,
    replayPath: undefined,
    redis: { keys: 0, foreignKeys: [], keysWithoutTtl: [], foreignChannels: [], channelsPublished: 0 },
    bystanders: [],
    legacyStreamOpens: 0,
    replicasNotReady: [],
  };
  const bystanders: Array<LegacyBystander | ModernBystander> = [];
  try {
    const pools = new Pools();
    await seedSessions(fleet.url, pools);
    const legacy = await LegacyBystander.connect(fleet.url, BYSTANDER_PACE_MS);
    const modern = await ModernBystander.connect(fleet.url, BYSTANDER_PACE_MS);
    bystanders.push(legacy, modern);
    for (const b of bystanders) b.start();
    const balancer: Endpoint = { host: '127.0.0.1', port: fleet.lbPort };
    const endpointOf = (c: FuzzCase): Endpoint => (c.target === 'balancer' ? balancer : { host: '127.0.0.1', port: fleet.replicas[c.target.replica]!.port });
    let bystanderErrorsSeen = 0;

    const sendCase = async (c: FuzzCase): Promise<void> => {
      const wire = resolveCase(c, pools);
      const socket = c.transport === 'socket' || needsSocket(wire) ? { httpVersion: c.httpVersion, omitHost: c.omitHost, framing: c.framing } : undefined;
      const outcome: Outcome = await exchange(endpointOf(c), wire, socket);
      pools.learn(outcome.headers, outcome.messages, outcome.frameIds);
      figures.cases++;
      count(figures.byFamily, c.family);
      count(figures.byStatus, String(outcome.status ?? 'none'));
      count(figures.via, socket ? 'socket' : outcome.via === 'socket' ? 'socket after fetch refused' : 'fetch');
      if (outcome.closedByTest) count(figures.closedByTest, outcome.closedByTest);
      if (refusedByBalancer(outcome)) figures.refusedByBalancer++;
      if (!outcome.timedOut) figures.slowestAnswerMs = Math.max(figures.slowestAnswerMs, outcome.elapsedMs);

      const judged = judgeAnswer(wire.method, wire.body?.length ?? 0, outcome);
      if (judged === LOST_EARLY_ANSWER) figures.lostEarlyAnswers++;
      const found = judged === LOST_EARLY_ANSWER ? [] : judged;
      for (const seen of watch.drain()) found.push({ kind: 'foreign-key-or-channel', detail: seen });
      const errors = bystanders.flatMap((b) => b.errorsSoFar);
      for (const error of errors.slice(bystanderErrorsSeen)) found.push({ kind: 'bystander-error', detail: error });
      bystanderErrorsSeen = errors.length;
      for (const replica of fleet.replicas) {
        if (replica.running) continue;
        found.push({ kind: 'replica-down', detail: `${replica.name} exited (log: ${replica.logFile})` });
        // Back up, so that shrinking (and the bystanders) have a whole fleet again.
        await replica.start();
      }
      if (found.length === 0) return;
      const text = describeRequest(c, wire, outcome.via);
      for (const v of found) {
        figures.violations[v.kind]++;
        if (figures.examples.filter((e) => e.kind === v.kind).length < EXAMPLES_PER_KIND) figures.examples.push({ ...v, request: text });
      }
      figures.lastFailure = `${found.map((v) => `${v.kind}: ${v.detail}`).join('\n')}\n${text}`;
      if (!options.keepGoing) throw new Error(`${found.map((v) => `${v.kind}: ${v.detail}`).join('\n')}\n--- request ---\n${text}`);
    };

    const property = fc.asyncProperty(fc.limitShrink(fuzzCase, MAX_SHRINKS), async (c) => {
      await sendCase(c);
      if (figures.cases % options.progressEvery === 0) {
        const bad = Object.values(figures.violations).reduce((a, b) => a + b, 0);
        options.log(`fuzz: ${figures.cases} cases, ${bad} violations, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    });
    const details = await fc.check(property, { numRuns: options.cases, seed: options.seed, path: options.path, endOnFailure: options.keepGoing, includeErrorInReport: true });
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

/** Whether the campaign found nothing wrong: each line is one finding. */
export function findings(figures: Figures): string[] {
  const out: string[] = [];
  if (figures.failure) out.push(figures.failure);
  for (const kind of VIOLATION_KINDS) if (figures.violations[kind] > 0) out.push(`${figures.violations[kind]} × ${kind}`);
  const { redis } = figures;
  if (redis.keysWithoutTtl.length > 0) out.push(`keys without a TTL: ${redis.keysWithoutTtl.slice(0, 10).join(', ')}`);
  if (redis.foreignKeys.length > 0) out.push(`keys outside ${KEY_PREFIX}: ${redis.foreignKeys.slice(0, 10).join(', ')}`);
  if (redis.foreignChannels.length > 0) out.push(`channels outside ${KEY_PREFIX}: ${redis.foreignChannels.slice(0, 10).join(', ')}`);
  for (const b of figures.bystanders) {
    if (b.errors.length > 0) out.push(`${b.name}: ${b.errors.slice(0, 5).join('; ')}`);
    if (b.received !== b.expected || b.duplicates > 0) out.push(`${b.name}: heard ${b.received} of ${b.expected} (${b.duplicates} duplicates)`);
    if (b.expected === 0) out.push(`${b.name}: made no call`);
  }
  if (figures.replicasNotReady.length > 0) out.push(`replicas: ${figures.replicasNotReady.join('; ')}`);
  return out;
}

export function summary(figures: Figures): string {
  const { redis } = figures;
  const lines = [
    `fuzz seed ${figures.seed}: ${figures.cases} cases in ${(figures.durationMs / 1000).toFixed(1)} s (replay: FUZZ_SEED=${figures.seed})`,
    `  families ${JSON.stringify(figures.byFamily)}; via ${JSON.stringify(figures.via)}`,
    `  statuses ${JSON.stringify(figures.byStatus)}`,
    `  closed by the test ${JSON.stringify(figures.closedByTest)}; refused by the balancer ${figures.refusedByBalancer}; early answers lost to a reset ${figures.lostEarlyAnswers}; slowest answer ${figures.slowestAnswerMs.toFixed(0)} ms`,
    `  handed out and sent back ${JSON.stringify(figures.learned)}`,
    `  violations ${JSON.stringify(figures.violations)}`,
    `  redis: ${redis.keys} keys, ${redis.keysWithoutTtl.length} without TTL, ${redis.foreignKeys.length} foreign keys, ${redis.foreignChannels.length} foreign channels, ${redis.channelsPublished} publishes seen`,
    ...figures.bystanders.map((b) => `  ${b.name}: heard ${b.received}/${b.expected}, ${b.duplicates} duplicates, ${b.errors.length} errors`),
    `  legacy bystander GET stream opened ${figures.legacyStreamOpens} time(s); replicas not ready: ${figures.replicasNotReady.length}`,
  ];
  for (const e of figures.examples) lines.push(`  example ${e.kind}: ${e.detail}\n${e.request.replace(/^/gm, '    | ')}`);
  if (figures.failure && figures.lastFailure) {
    const replay = `npm run fuzz -- --seed ${figures.seed}${figures.replayPath ? ` --path ${figures.replayPath}` : ''}`;
    lines.push(`  smallest failing case (replay: ${replay}):\n${figures.lastFailure.replace(/^/gm, '    | ')}`);
  }
  return lines.join('\n');
}
