import { log } from '../log.js';
import { isInputNeeded, type TaskToolDefinition } from './task-tool.js';
import type { TaskSettings } from './task-settings.js';
import { expiresAt, isTerminal, TaskLimitError, type TaskError, type TaskRecord, type TaskStore } from './task-store.js';
import { ended, newTaskId, updateTask, type Ending } from './task-updates.js';

/** Who is alive: the InFlightRegistry's heartbeat, one per process. */
export interface TaskLiveness {
  readonly instanceId: string;
  readonly livenessMs: number;
  aliveAmong(instanceIds: readonly string[]): Promise<Set<string>>;
}

/** What the runner reports (metrics). */
export interface TaskEvents {
  created(tool: string): void;
  ended(status: 'completed' | 'failed' | 'cancelled', reason: TaskEndReason, durationSeconds: number): void;
  orphaned(outcome: 'failed' | 'rerun' | 'cancelled'): void;
  refused(limit: string): void;
  /** Rounds running on this replica, and how many of them are past their task's TTL (their handler ignored the abort). */
  running(count: number, overdue: number): void;
  /** A record this replica wrote (created, or changed by compare-and-set): what tasks/get answers changed. */
  changed(record: TaskRecord): void;
}

export type TaskEndReason = 'ok' | 'tool_error' | 'protocol_error' | 'cancelled' | 'owner_lost' | 'ttl' | 'drain' | 'result_too_large';

export const NOOP_TASK_EVENTS: TaskEvents = { created() {}, ended() {}, orphaned() {}, refused() {}, running() {}, changed() {} };

/** A limit of this replica (not of the store) refused a new task. */
export class TaskRunnerLimitError extends Error {
  constructor(readonly max: number) {
    super(`This replica runs its maximum of ${max} task rounds; try again later`);
    this.name = 'TaskRunnerLimitError';
  }
}

export const OWNER_LOST_MESSAGE = 'The replica running this task stopped before it finished (its liveness lapsed, OWNER_LIVENESS_MS)';
export const DRAIN_MESSAGE = 'The replica running this task shut down before it finished (DRAIN_TIMEOUT_MS)';
export const TTL_MESSAGE = 'The task ran past its ttlMs';
/** How often a replica running rounds reads their records for a cancel (bounds the cancel latency). */
export const WATCH_INTERVAL_MS = 200;

interface RunningRound {
  record: TaskRecord;
  controller: AbortController;
  done: Promise<void>;
  /** Drain has ended or released it: its outcome is not written. */
  detached: boolean;
}

export interface TaskRunnerOptions {
  store: TaskStore;
  liveness: TaskLiveness;
  tools: readonly TaskToolDefinition<any>[];
  settings: TaskSettings;
  events?: TaskEvents;
  now?: () => number;
}

/** A thrown value as the JSON-RPC error a failed task carries. */
export function asTaskError(error: unknown): TaskError {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number') {
    const { code, message, data } = error as { code: number; message?: unknown; data?: unknown };
    return { code, message: typeof message === 'string' ? message : 'error', ...(data !== undefined ? { data } : {}) };
  }
  return { code: -32603, message: error instanceof Error ? error.message : String(error) };
}

/** A round's questions go out under keys that never repeat over the task's life: round 1's as asked, later ones suffixed. */
const wireKey = (key: string, round: number): string => (round === 1 ? key : `${key}.r${round}`);
const handlerKey = (key: string, round: number): string => {
  const suffix = round === 1 ? '' : `.r${round}`;
  return suffix !== '' && key.endsWith(suffix) ? key.slice(0, -suffix.length) : key;
};

/**
 * One per replica: runs the rounds of the tasks this replica owns, and keeps the fleet's tasks
 * moving. Rounds start on the replica that created the task, that received the tasks/update
 * completing a round's answers, or that claimed a dead owner's task. Two timers per replica, none
 * per task: the watch (every WATCH_INTERVAL_MS while rounds run) reads their records for a cancel,
 * a lapsed TTL or a lost ownership; the sweep (a quarter of OWNER_LIVENESS_MS) finds owners whose
 * liveness lapsed and claims their tasks, one replica per task by compare-and-set.
 */
export class TaskRunner {
  private readonly running = new Map<string, RunningRound>();
  private readonly tools: Map<string, TaskToolDefinition<any>>;
  private readonly events: TaskEvents;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private watching = false;
  private draining = false;

  constructor(private readonly options: TaskRunnerOptions) {
    this.tools = new Map(options.tools.map((tool) => [tool.name, tool]));
    this.events = options.events ?? NOOP_TASK_EVENTS;
    this.now = options.now ?? Date.now;
  }

  get instanceId(): string {
    return this.options.liveness.instanceId;
  }

  get store(): TaskStore {
    return this.options.store;
  }

  get settings(): TaskSettings {
    return this.options.settings;
  }

  /** Rounds running on this replica now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** The sweep interval: an owner's death is acted on within OWNER_LIVENESS_MS plus this. */
  get sweepIntervalMs(): number {
    return Math.max(50, Math.floor(this.options.liveness.livenessMs / 4));
  }

  start(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.sweepTimer.unref();
    this.watchTimer = setInterval(() => void this.watch(), WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  /** Creates a task owned by this replica and starts its first round; resolves once every replica can read it. */
  async create(tool: TaskToolDefinition<any>, args: Record<string, unknown>, principal: string, memory?: unknown): Promise<TaskRecord> {
    const { settings } = this.options;
    if (this.running.size >= settings.maxRunningPerReplica || this.draining) {
      this.events.refused('running_per_replica');
      throw new TaskRunnerLimitError(settings.maxRunningPerReplica);
    }
    const now = this.now();
    const record: TaskRecord = {
      taskId: newTaskId(),
      principal,
      tool: tool.name,
      args,
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: Math.min(settings.ttlMs, settings.maxTtlMs),
      pollIntervalMs: settings.pollIntervalMs,
      ...(memory !== undefined ? { memory } : {}),
      round: 1,
      owner: this.instanceId,
      attempt: 1,
      resumable: tool.resumable === true,
      version: 1,
    };
    try {
      await this.options.store.create(record, settings);
    } catch (error) {
      if (error instanceof TaskLimitError) this.events.refused(error.limit);
      throw error;
    }
    this.events.created(tool.name);
    this.events.changed(record);
    this.launch(record);
    return record;
  }

  /** The task if `principal` may see it; undefined exactly as for an unknown one otherwise. */
  async get(taskId: string, principal: string): Promise<TaskRecord | undefined> {
    const record = await this.options.store.get(taskId);
    return record && record.principal === principal ? record : undefined;
  }

  /**
   * tasks/update: keeps the answers to questions still outstanding (others are ignored); when the
   * round's last one arrives, this replica claims the task and runs the next round. False for an
   * unknown (or another caller's) task.
   */
  async update(taskId: string, principal: string, responses: Record<string, unknown>): Promise<boolean> {
    if (!(await this.get(taskId, principal))) return false;
    const written = await this.write(taskId, (current) => {
      if (current.status !== 'input_required' || current.principal !== principal) return undefined;
      const outstanding = { ...current.inputRequests };
      const answers = { ...current.inputResponses };
      let taken = 0;
      for (const [key, value] of Object.entries(responses)) {
        if (!(key in outstanding)) continue;
        answers[key] = value;
        delete outstanding[key];
        taken += 1;
      }
      if (taken === 0) return undefined;
      const now = this.now();
      if (Object.keys(outstanding).length > 0) return { ...current, inputRequests: outstanding, inputResponses: answers, lastUpdatedAt: now };
      const { inputRequests: _asked, ...rest } = current;
      return { ...rest, status: 'working', inputResponses: answers, owner: this.instanceId, round: current.round + 1, attempt: 1, lastUpdatedAt: now };
    });
    if (written?.status === 'working' && written.owner === this.instanceId) this.launch(written);
    return true;
  }

  /**
   * tasks/cancel: a parked task ends cancelled at once; a running one is marked, and its owner
   * aborts the round (at once here, within WATCH_INTERVAL_MS elsewhere) and ends it cancelled.
   * False for an unknown (or another caller's) task; an ended task is left as it is.
   */
  async cancel(taskId: string, principal: string): Promise<boolean> {
    if (!(await this.get(taskId, principal))) return false;
    const written = await this.write(taskId, (current) => {
      if (current.owner === undefined)
        return ended(current, { status: 'cancelled', statusMessage: 'Cancelled by the client' }, this.now(), this.options.settings.resultRetentionMs);
      if (current.cancelRequested) return undefined;
      return { ...current, cancelRequested: true, lastUpdatedAt: this.now() };
    });
    if (written?.status === 'cancelled') this.reportEnd(written, 'cancelled');
    if (written?.cancelRequested) this.running.get(taskId)?.controller.abort('cancel');
    return true;
  }

  /** updateTask on this runner's store, the record written reported as changed. */
  private async write(taskId: string, change: (current: TaskRecord) => TaskRecord | undefined): Promise<TaskRecord | undefined> {
    const written = await updateTask(this.options.store, taskId, change);
    if (written) this.events.changed(written);
    return written;
  }

  private launch(record: TaskRecord): void {
    const tool = this.tools.get(record.tool);
    const controller = new AbortController();
    const entry: RunningRound = { record, controller, done: Promise.resolve(), detached: false };
    this.running.set(record.taskId, entry);
    this.reportRunning();
    entry.done = this.runRound(entry, tool).finally(() => {
      if (this.running.get(record.taskId) === entry) this.running.delete(record.taskId);
      this.reportRunning();
    });
  }

  private async runRound(entry: RunningRound, tool: TaskToolDefinition<any> | undefined): Promise<void> {
    const { record, controller } = entry;
    let outcome: { ending: Ending; reason: TaskEndReason } | { park: { inputRequests: Record<string, unknown>; memory: unknown } };
    try {
      if (!tool) throw Object.assign(new Error(`This replica has no task tool ${record.tool}`), { code: -32603 });
      const answers: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record.inputResponses ?? {})) answers[handlerKey(key, record.round - 1)] = value;
      const result = await tool.round({
        args: record.args,
        memory: record.memory,
        answers,
        signal: controller.signal,
        round: record.round,
        setStatus: (message) => this.setStatus(record, message),
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      if (isInputNeeded(result)) {
        const inputRequests = Object.fromEntries(Object.entries(result.inputRequests).map(([key, request]) => [wireKey(key, record.round), request]));
        outcome = { park: { inputRequests, memory: result.memory } };
      } else if (Buffer.byteLength(JSON.stringify(result)) > this.options.settings.resultMaxBytes) {
        const message = `The result is larger than TASK_RESULT_MAX_BYTES (${this.options.settings.resultMaxBytes})`;
        outcome = { ending: { status: 'failed', error: { code: -32603, message }, statusMessage: message }, reason: 'result_too_large' };
      } else {
        outcome = {
          ending: { status: 'completed', result: result as Record<string, unknown> },
          reason: (result as { isError?: unknown }).isError === true ? 'tool_error' : 'ok',
        };
      }
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason === 'cancel') outcome = { ending: { status: 'cancelled', statusMessage: 'Cancelled by the client' }, reason: 'cancelled' };
      else if (reason === 'ttl')
        outcome = { ending: { status: 'failed', error: { code: -32603, message: TTL_MESSAGE }, statusMessage: TTL_MESSAGE }, reason: 'ttl' };
      else outcome = { ending: { status: 'failed', error: asTaskError(error) }, reason: 'protocol_error' };
    }
    if (entry.detached) return;
    await this.settle(record, outcome).catch((error: unknown) =>
      log.warn('could not record the end of a task round; its owner will count as lost', {
        task: record.taskId,
        reason: error instanceof Error ? error.message : String(error),
      }),
    );
  }

  private async settle(
    record: TaskRecord,
    outcome: { ending: Ending; reason: TaskEndReason } | { park: { inputRequests: Record<string, unknown>; memory: unknown } },
  ): Promise<void> {
    let reason: TaskEndReason | undefined;
    const written = await this.write(record.taskId, (current) => {
      // Not this round's any more: another replica claimed it.
      if (current.owner !== this.instanceId || current.round !== record.round) return undefined;
      const now = this.now();
      if (current.cancelRequested) {
        reason = 'cancelled';
        return ended(current, { status: 'cancelled', statusMessage: 'Cancelled by the client' }, now, this.options.settings.resultRetentionMs);
      }
      if ('park' in outcome) {
        const { owner: _owner, ...rest } = current;
        return {
          ...rest,
          status: 'input_required',
          inputRequests: outcome.park.inputRequests,
          inputResponses: {},
          memory: outcome.park.memory,
          lastUpdatedAt: now,
        };
      }
      reason = outcome.reason;
      return ended(current, outcome.ending, now, this.options.settings.resultRetentionMs);
    });
    if (written && reason && isTerminal(written.status)) this.reportEnd(written, reason);
  }

  private reportRunning(): void {
    const now = this.now();
    let overdue = 0;
    for (const entry of this.running.values()) if (now >= expiresAt(entry.record)) overdue += 1;
    this.events.running(this.running.size, overdue);
  }

  private reportEnd(record: TaskRecord, reason: TaskEndReason): void {
    this.events.ended(record.status as Ending['status'], reason, (record.lastUpdatedAt - record.createdAt) / 1000);
  }

  private async setStatus(record: TaskRecord, message: string): Promise<void> {
    await this.write(record.taskId, (current) =>
      current.owner === this.instanceId && current.round === record.round ? { ...current, statusMessage: message, lastUpdatedAt: this.now() } : undefined,
    );
  }

  /** Reads the records of the rounds running here: a cancel, a lapsed TTL or a lost ownership aborts the round. */
  async watch(): Promise<void> {
    if (this.running.size > 0) this.reportRunning();
    if (this.watching || this.running.size === 0) return;
    this.watching = true;
    try {
      const entries = [...this.running.values()];
      const records = await this.options.store.getMany(entries.map((entry) => entry.record.taskId));
      const now = this.now();
      entries.forEach((entry, index) => {
        const current = records[index];
        if (entry.controller.signal.aborted) return;
        if (!current || isTerminal(current.status) || current.owner !== this.instanceId || current.round !== entry.record.round) {
          entry.detached = true;
          entry.controller.abort('lost');
        } else if (current.cancelRequested) entry.controller.abort('cancel');
        else if (now >= expiresAt(current) - WATCH_INTERVAL_MS) entry.controller.abort('ttl');
      });
    } catch (error) {
      log.debug('task watch failed', { reason: error instanceof Error ? error.message : String(error) });
    } finally {
      this.watching = false;
    }
  }

  /** Finds instances whose liveness lapsed while owning tasks, and claims each of their tasks (one replica wins each). */
  async sweep(): Promise<void> {
    if (this.sweeping || this.draining) return;
    this.sweeping = true;
    try {
      const { store, liveness } = this.options;
      const owners = (await store.owners()).filter((owner) => owner !== this.instanceId);
      if (owners.length === 0) return;
      const alive = await liveness.aliveAmong(owners);
      for (const dead of owners.filter((owner) => !alive.has(owner))) {
        const ids = await store.ownedBy(dead);
        const records = await store.getMany(ids);
        const stale: string[] = [];
        for (const [index, record] of records.entries()) {
          if (!record || record.owner !== dead || isTerminal(record.status)) stale.push(ids[index]!);
          else await this.claimOrphan(record.taskId, dead);
        }
        await store.unindex(dead, stale);
      }
    } catch (error) {
      log.debug('task sweep failed', { reason: error instanceof Error ? error.message : String(error) });
    } finally {
      this.sweeping = false;
    }
  }

  private async claimOrphan(taskId: string, dead: string): Promise<void> {
    const { settings } = this.options;
    let outcome: 'failed' | 'rerun' | 'cancelled' | undefined;
    const written = await this.write(taskId, (current) => {
      if (current.owner !== dead) return undefined;
      const now = this.now();
      if (current.cancelRequested) {
        outcome = 'cancelled';
        return ended(current, { status: 'cancelled', statusMessage: 'Cancelled by the client' }, now, settings.resultRetentionMs);
      }
      if (current.resumable && current.attempt < settings.maxAttempts && this.tools.has(current.tool) && !this.draining) {
        outcome = 'rerun';
        return { ...current, owner: this.instanceId, attempt: current.attempt + 1, lastUpdatedAt: now };
      }
      outcome = 'failed';
      return ended(
        current,
        { status: 'failed', error: { code: -32603, message: OWNER_LOST_MESSAGE }, statusMessage: OWNER_LOST_MESSAGE },
        now,
        settings.resultRetentionMs,
      );
    });
    if (!written || !outcome) return;
    this.events.orphaned(outcome);
    if (outcome === 'rerun') this.launch(written);
    else this.reportEnd(written, outcome === 'cancelled' ? 'cancelled' : 'owner_lost');
  }

  /**
   * SIGTERM: no new tasks; running rounds get `timeoutMs` to finish. Then resumable ones are left
   * owned by this replica, whose liveness ends with the process, so a peer's sweep re-runs them at
   * once; the others end failed with the reason.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.running.values()].map((entry) => entry.done)), deadline]);
    const left = [...this.running.values()];
    await Promise.allSettled(
      left.map(async (entry) => {
        entry.detached = true;
        entry.controller.abort('drain');
        if (entry.record.resumable) return;
        const written = await this.write(entry.record.taskId, (current) =>
          current.owner === this.instanceId
            ? ended(
                current,
                { status: 'failed', error: { code: -32603, message: DRAIN_MESSAGE }, statusMessage: DRAIN_MESSAGE },
                this.now(),
                this.options.settings.resultRetentionMs,
              )
            : undefined,
        );
        if (written) this.reportEnd(written, 'drain');
      }),
    );
  }

  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.sweepTimer = this.watchTimer = undefined;
    for (const entry of this.running.values()) {
      entry.detached = true;
      entry.controller.abort('drain');
    }
  }
}
