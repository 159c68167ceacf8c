import type { Fleet } from '../../src/fleet/index.js';
import type { LegacyBystander, ModernBystander } from './bystanders.js';
import { describeRequest, resolveCase, type FuzzCase } from './case.js';
import { exchange, needsSocket, type Endpoint } from './exchange.js';
import { count, type Figures } from './figures.js';
import type { Pools } from './pools.js';
import { judgeAnswer, lostThroughBalancer, refusedByBalancer, type Violation } from './properties.js';
import type { RedisWatch } from './redis-watch.js';

const EXAMPLES_PER_KIND = 3;

export interface RunnerDeps {
  fleet: Fleet;
  pools: Pools;
  watch: RedisWatch;
  bystanders: Array<LegacyBystander | ModernBystander>;
  figures: Figures;
  keepGoing: boolean;
}

/**
 * Sends the cases of one run at once and judges them: each answer, then what the fleet did
 * meanwhile (Redis outside the prefix, a bystander's error, a replica that exited). Throws on a
 * violation, unless told to keep going, for fast-check to shrink the run.
 */
export class CaseRunner {
  private bystanderErrorsSeen = 0;
  /** HAProxy's count of requests it refused itself, as last read. */
  private balancerRefusals: number | undefined;

  constructor(private readonly deps: RunnerDeps) {}

  private endpointOf(c: FuzzCase): Endpoint {
    const { fleet } = this.deps;
    return { host: '127.0.0.1', port: c.target === 'balancer' ? fleet.lbPort : fleet.replicas[c.target.replica]!.port };
  }

  private async send(c: FuzzCase): Promise<{ found: Violation[]; text: string; lostThroughBalancer: boolean }> {
    const { pools, figures } = this.deps;
    const wire = resolveCase(c, pools);
    const socket = c.transport === 'socket' || needsSocket(wire) ? { httpVersion: c.httpVersion, omitHost: c.omitHost, framing: c.framing } : undefined;
    const outcome = await exchange(this.endpointOf(c), wire, socket);
    pools.learn(outcome.headers, outcome.messages, outcome.frameIds);
    figures.cases++;
    count(figures.byFamily, c.family);
    count(figures.byStatus, String(outcome.status ?? 'none'));
    count(figures.via, socket ? 'socket' : outcome.via === 'socket' ? 'socket after fetch refused' : 'fetch');
    if (outcome.closedByTest) count(figures.closedByTest, outcome.closedByTest);
    if (refusedByBalancer(outcome)) figures.refusedByBalancer++;
    if (!outcome.timedOut) figures.slowestAnswerMs = Math.max(figures.slowestAnswerMs, outcome.elapsedMs);
    const lost = lostThroughBalancer(c.target, outcome);
    // A body sent without framing is read as the next request: the connection may close (after the
    // answer to the first, with Connection: close) with those bytes unread, and the reset lose the answer.
    const unframedBody = outcome.via === 'socket' && c.framing === 'none' && (wire.body?.length ?? 0) > 0;
    if (lost && unframedBody) figures.lostBalancerRefusals++;
    const found = judgeAnswer(wire.method, outcome).filter((v) => !(lost && unframedBody && v.kind === 'no-answer'));
    return { found, text: describeRequest(c, wire, outcome.via), lostThroughBalancer: lost && !unframedBody };
  }

  /** Requests HAProxy refused itself since the last call (none of them reached a replica). */
  private async balancerRefusalsSince(): Promise<number> {
    const total = await this.deps.fleet.requestErrors();
    const since = total - (this.balancerRefusals ?? total);
    this.balancerRefusals = total;
    return since;
  }

  /** What happened on the fleet's side during the run, whichever of its cases caused it. */
  private async meanwhile(): Promise<Violation[]> {
    const { watch, bystanders, fleet } = this.deps;
    const found: Violation[] = watch.drain().map((seen) => ({ kind: 'foreign-key-or-channel', detail: seen }));
    const errors = bystanders.flatMap((b) => b.errorsSoFar);
    for (const error of errors.slice(this.bystanderErrorsSeen)) found.push({ kind: 'bystander-error', detail: error });
    this.bystanderErrorsSeen = errors.length;
    for (const replica of fleet.replicas) {
      if (replica.running) continue;
      found.push({ kind: 'replica-down', detail: `${replica.name} exited (log: ${replica.logFile})` });
      // Back up, so that shrinking (and the bystanders) have a whole fleet again.
      await replica.start();
    }
    return found;
  }

  async run(cases: FuzzCase[]): Promise<void> {
    const { figures } = this.deps;
    figures.runs++;
    await this.balancerRefusalsSince();
    const sent = await Promise.all(cases.map((c) => this.send(c)));
    // As many answers lost through the balancer as HAProxy refused requests itself are its business.
    let refused = sent.some((s) => s.lostThroughBalancer) ? await this.balancerRefusalsSince() : 0;
    for (const s of sent) {
      if (!s.lostThroughBalancer || refused === 0) continue;
      refused -= 1;
      figures.lostBalancerRefusals++;
      s.found = s.found.filter((v) => v.kind !== 'no-answer');
    }
    const together = `${cases.length > 1 ? `${cases.length} requests sent at once:\n` : ''}${sent.map((s) => s.text).join('\n---\n')}`;
    // A fleet-wide violation is blamed on the whole run, each answer's on its own request.
    const blamed = [...sent.flatMap((s) => s.found.map((v) => ({ v, request: s.text }))), ...(await this.meanwhile()).map((v) => ({ v, request: together }))];
    if (blamed.length === 0) return;
    for (const { v, request } of blamed) {
      figures.violations[v.kind]++;
      if (figures.examples.filter((e) => e.kind === v.kind).length < EXAMPLES_PER_KIND) figures.examples.push({ ...v, request });
    }
    const report = blamed.map(({ v, request }) => `${v.kind}: ${v.detail}\n--- request ---\n${request}`).join('\n\n');
    figures.lastFailure = report;
    if (!this.deps.keepGoing) throw new Error(report);
  }
}
