import type { BystanderReport } from './bystanders.js';
import type { Violation, ViolationKind } from './properties.js';
import type { KeyAudit } from './redis-watch.js';

export const KEY_PREFIX = 'fuzz-fleet:';

/** What a campaign saw: its traffic, what it found, and the audit at the end. */
export interface Figures {
  seed: number;
  /** fast-check runs: one case, or a few sent at once. */
  runs: number;
  /** Requests sent. */
  cases: number;
  durationMs: number;
  byFamily: Record<string, number>;
  byStatus: Record<string, number>;
  /** How requests went out: fetch, a hand-written request, or a hand-written one after fetch refused it. */
  via: Record<string, number>;
  /** Streams the test closed itself: open streams (GET, listen) and POST streams waiting for this client's answer. */
  closedByTest: Record<string, number>;
  refusedByBalancer: number;
  /** HAProxy's own refusals of a malformed chunked body lost to its reset (see lostBalancerRefusal): counted, not failed on. */
  lostBalancerRefusals: number;
  slowestAnswerMs: number;
  /** What the fleet handed out that later cases could send back (sessions, event ids, requestStates, server request ids). */
  learned: Record<string, number>;
  violations: Record<ViolationKind, number>;
  examples: Array<Violation & { request: string }>;
  /** fast-check's report when a property failed (seed, path, shrunk counterexample). */
  failure: string | undefined;
  /** The last run that failed: after shrinking, the smallest one found, as requests to replay. */
  lastFailure: string | undefined;
  replayPath: string | undefined;
  redis: KeyAudit & { channelsPublished: number };
  bystanders: BystanderReport[];
  /** The legacy bystander's GET stream opens: 1 when it never had to reconnect. */
  legacyStreamOpens: number;
  replicasNotReady: string[];
}

export const VIOLATION_KINDS: ViolationKind[] = [
  '5xx',
  'hang',
  'bodiless-error',
  'malformed-answer',
  'no-answer',
  'foreign-key-or-channel',
  'bystander-error',
  'replica-down',
];

export function newFigures(seed: number): Figures {
  return {
    seed,
    runs: 0,
    cases: 0,
    durationMs: 0,
    byFamily: {},
    byStatus: {},
    via: {},
    closedByTest: {},
    refusedByBalancer: 0,
    lostBalancerRefusals: 0,
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
}

export const count = (table: Record<string, number>, key: string): void => {
  table[key] = (table[key] ?? 0) + 1;
};

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
    `fuzz seed ${figures.seed}: ${figures.cases} cases in ${figures.runs} runs, ${(figures.durationMs / 1000).toFixed(1)} s (replay: FUZZ_SEED=${figures.seed})`,
    `  families ${JSON.stringify(figures.byFamily)}; via ${JSON.stringify(figures.via)}`,
    `  statuses ${JSON.stringify(figures.byStatus)}`,
    `  closed by the test ${JSON.stringify(figures.closedByTest)}; refused by the balancer ${figures.refusedByBalancer} (lost to its reset ${figures.lostBalancerRefusals}); slowest answer ${figures.slowestAnswerMs.toFixed(0)} ms`,
    `  handed out and sent back ${JSON.stringify(figures.learned)}`,
    `  violations ${JSON.stringify(figures.violations)}`,
    `  redis: ${redis.keys} keys, ${redis.keysWithoutTtl.length} without TTL, ${redis.foreignKeys.length} foreign keys, ${redis.foreignChannels.length} foreign channels, ${redis.channelsPublished} publishes seen`,
    ...figures.bystanders.map((b) => `  ${b.name}: heard ${b.received}/${b.expected}, ${b.duplicates} duplicates, ${b.errors.length} errors`),
    `  legacy bystander GET stream opened ${figures.legacyStreamOpens} time(s); replicas not ready: ${figures.replicasNotReady.length}`,
  ];
  for (const e of figures.examples) lines.push(`  example ${e.kind}: ${e.detail}\n${e.request.replace(/^/gm, '    | ')}`);
  if (figures.failure && figures.lastFailure) {
    const replay = `npm run fuzz -- --seed ${figures.seed}${figures.replayPath ? ` --path ${figures.replayPath}` : ''}`;
    lines.push(`  smallest failing run (replay: ${replay}):\n${figures.lastFailure.replace(/^/gm, '    | ')}`);
  }
  return lines.join('\n');
}
