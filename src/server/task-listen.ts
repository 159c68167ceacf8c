import type { IncomingMessage } from 'node:http';
import { SUBSCRIPTION_ID_META_KEY, type RequestId } from '@modelcontextprotocol/server';
import type { AuthenticatedRequest } from '../auth/principal.js';
import { StoreUnavailableError } from '../backends/store-errors.js';
import type { ChangeEventBus, TaskStatusEvent } from '../bus/event-bus.js';
import { MAX_TASK_ID_LENGTH } from '../bus/event-envelope.js';
import { log } from '../log.js';
import { callerOfToken, declaresTasksIn, missingCapability } from '../tasks/task-protocol.js';
import { isTerminal, type TaskRecord, type TaskStore } from '../tasks/task-store.js';
import { detailedTask } from '../tasks/task-wire.js';

/** The most task ids one listen request may name. */
export const MAX_LISTEN_TASK_IDS = 100;

/** What a listen stream is written to: the modern endpoint's response (and, here, what the SDK writes to). */
export interface ListenResponse {
  writeHead(status: number, headers?: Record<string, string>): unknown;
  write(chunk: string | Uint8Array): unknown;
  end(chunk?: string | Uint8Array): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly destroyed: boolean;
}

/** Serves the listen request's other notification kinds (the SDK's listen router), writing to `sink`. */
export type ServeBySdk = (sink: ListenResponse) => Promise<unknown>;

export interface TaskListenOptions {
  bus: ChangeEventBus;
  store: TaskStore;
  keepAliveMs: number;
  /** Listen streams with task ids this replica holds at most (as the SDK's own limit). */
  maxStreams: number;
}

interface ListenBody {
  id?: unknown;
  params?: { _meta?: unknown; notifications?: { taskIds?: unknown } };
}

const paramsOf = (body: unknown): ListenBody['params'] => (typeof body === 'object' && body !== null ? (body as ListenBody).params : undefined);

/** Whether a `subscriptions/listen` request asks for task status notifications (its filter names `taskIds`). */
export function asksForTasks(body: unknown): boolean {
  const notifications = paramsOf(body)?.notifications;
  return typeof notifications === 'object' && notifications !== null && 'taskIds' in notifications;
}

const frameOf = (message: unknown): string => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

function answerError(res: ListenResponse, status: number, id: RequestId | null, error: Record<string, unknown>, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', id, error }));
}

/**
 * `notifications/tasks` on `subscriptions/listen` streams (tasks extension), on every replica. The
 * SDK's listen router knows only its four change kinds and drops `taskIds` from the filter, so a
 * listen request that names task ids is served here around it: the SDK serves the rest of the
 * filter into a sink of this stream (its acknowledgement gets the honored task ids added; its
 * early completion, when it honored nothing, is dropped while tasks are watched), and every task
 * record written on any replica is announced on the fleet's event bus; the replicas watching that
 * task read the record once and notify each stream with what tasks/get would answer.
 */
export class TaskListen {
  private readonly watchers = new Map<string, Set<TaskListenStream>>();
  /** Tasks being read after a change: true when another change came meanwhile (read again). */
  private readonly reading = new Map<string, boolean>();
  private readonly unsubscribe: () => void;
  private open = 0;

  constructor(private readonly options: TaskListenOptions) {
    this.unsubscribe = options.bus.subscribeTasks((event) => this.changed(event));
  }

  /**
   * Answers the listen request: -32021 (HTTP 400) when it does not declare the extension, 503 when
   * the task store cannot be read; otherwise a stream that honors the caller's own tasks among
   * those named (another caller's, an unknown and a purged task alike are left out of the
   * acknowledgement), starting with each one's current state.
   */
  async serve(req: IncomingMessage, res: ListenResponse, body: unknown, sdk: ServeBySdk): Promise<void> {
    const params = paramsOf(body);
    const rawId = (body as ListenBody).id;
    const id: RequestId | null = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
    if (!declaresTasksIn(params?._meta)) {
      const error = missingCapability('Task status notifications');
      return answerError(res, 400, id, { code: error.code, message: error.message, data: error.data });
    }
    const taskIds = params?.notifications?.taskIds;
    if (!Array.isArray(taskIds) || taskIds.length > MAX_LISTEN_TASK_IDS || !taskIds.every((taskId) => typeof taskId === 'string')) {
      return answerError(res, 200, id, {
        code: -32602,
        message: `Invalid params: notifications.taskIds must be an array of at most ${MAX_LISTEN_TASK_IDS} task ids`,
      });
    }
    if (this.open >= this.options.maxStreams) return answerError(res, 200, id, { code: -32603, message: 'Subscription limit reached' });
    const caller = callerOfToken((req as AuthenticatedRequest).auth);
    const named = [...new Set(taskIds as string[])].filter((taskId) => taskId.length <= MAX_TASK_ID_LENGTH);
    // Watched before the read: a change announced while it runs is read again, not missed.
    const stream = new TaskListenStream(res, id, caller, named, this.options.keepAliveMs);
    stream.onEnded = (taskId) => this.unwatch(taskId, stream);
    for (const taskId of named) this.watch(taskId, stream);
    let records: Array<TaskRecord | undefined>;
    try {
      records = named.length === 0 ? [] : await this.options.store.getMany(named);
    } catch (error) {
      for (const taskId of named) this.unwatch(taskId, stream);
      if (!(error instanceof StoreUnavailableError)) throw error;
      return answerError(res, 503, id, { code: -32000, message: `Service Unavailable: ${error.message}` }, { 'Retry-After': '1' });
    }
    named.forEach((taskId, index) => stream.notify(taskId, records[index]));
    this.open += 1;
    res.on('close', () => {
      this.open -= 1;
      for (const taskId of stream.watching) this.unwatch(taskId, stream);
      stream.closed();
    });
    await sdk(stream);
  }

  close(): void {
    this.unsubscribe();
  }

  private watch(taskId: string, stream: TaskListenStream): void {
    const streams = this.watchers.get(taskId) ?? new Set<TaskListenStream>();
    streams.add(stream);
    this.watchers.set(taskId, streams);
  }

  private unwatch(taskId: string, stream: TaskListenStream): void {
    const streams = this.watchers.get(taskId);
    streams?.delete(stream);
    if (streams?.size === 0) this.watchers.delete(taskId);
  }

  private changed(event: TaskStatusEvent): void {
    const streams = this.watchers.get(event.taskId);
    if (!streams || [...streams].every((stream) => stream.hasSent(event.taskId, event.version))) return;
    if (this.reading.has(event.taskId)) {
      this.reading.set(event.taskId, true);
      return;
    }
    void this.read(event.taskId);
  }

  /** One store read per change per replica, however many streams watch the task. */
  private async read(taskId: string): Promise<void> {
    try {
      do {
        this.reading.set(taskId, false);
        const record = await this.options.store.get(taskId);
        for (const stream of [...(this.watchers.get(taskId) ?? [])]) stream.notify(taskId, record);
      } while (this.reading.get(taskId) === true);
    } catch (error) {
      log.debug('could not read a task for its listen streams', { task: taskId, reason: error instanceof Error ? error.message : String(error) });
    } finally {
      this.reading.delete(taskId);
    }
  }
}

/**
 * One listen stream with task ids. It is the sink the SDK serves the rest of the filter into: its
 * frames are forwarded, but for its keep-alives (this stream sends its own), its acknowledgement
 * (the honored task ids added) and its completion while tasks are still watched.
 */
class TaskListenStream implements ListenResponse {
  /** Told when a task reached a terminal state: nothing more will change. */
  onEnded: (taskId: string) => void = () => {};
  /** Versions sent, by task id, for the tasks still watched. */
  private readonly sent = new Map<string, number>();
  /** Latest records known before the acknowledgement went out. */
  private readonly pending = new Map<string, TaskRecord>();
  private readonly closeListeners: Array<(...args: unknown[]) => void> = [];
  private sseHeaders: Record<string, string> | undefined;
  /** The SDK answered with something else than a stream (an error): forwarded as it is. */
  private passthrough = false;
  private buffer = '';
  private acknowledged = false;
  private isClosed = false;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ListenResponse,
    private readonly listenId: RequestId | null,
    private readonly caller: string,
    named: readonly string[],
    private readonly keepAliveMs: number,
  ) {
    // Until the first read, every task named: notify() leaves out those the caller may not see.
    for (const taskId of named) this.sent.set(taskId, 0);
  }

  get watching(): string[] {
    return [...this.sent.keys()];
  }

  hasSent(taskId: string, version: number): boolean {
    return (this.sent.get(taskId) ?? Number.POSITIVE_INFINITY) >= version;
  }

  /** A task's record as read after a change (undefined: gone). */
  notify(taskId: string, record: TaskRecord | undefined): void {
    if (this.isClosed || !this.sent.has(taskId)) return;
    if (!record || record.principal !== this.caller) return this.forget(taskId);
    if (!this.acknowledged) {
      const known = this.pending.get(taskId);
      if (!known || known.version < record.version) this.pending.set(taskId, record);
      return;
    }
    this.send(record);
  }

  private send(record: TaskRecord): void {
    if ((this.sent.get(record.taskId) ?? Number.POSITIVE_INFINITY) >= record.version) return;
    this.sent.set(record.taskId, record.version);
    const params = { ...detailedTask(record), _meta: { [SUBSCRIPTION_ID_META_KEY]: this.listenId } };
    this.res.write(frameOf({ jsonrpc: '2.0', method: 'notifications/tasks', params }));
    if (isTerminal(record.status)) this.forget(record.taskId);
  }

  private forget(taskId: string): void {
    this.sent.delete(taskId);
    this.pending.delete(taskId);
    this.onEnded(taskId);
  }

  closed(): void {
    this.isClosed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  // What the SDK writes.

  get destroyed(): boolean {
    return this.isClosed || this.res.destroyed;
  }

  writeHead(status: number, headers: Record<string, string> = {}): unknown {
    const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
    if (status === 200 && type.startsWith('text/event-stream')) this.sseHeaders = headers;
    else {
      this.passthrough = true;
      this.res.writeHead(status, headers);
    }
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.passthrough) this.res.write(chunk);
    else this.take(chunk);
    return true;
  }

  end(chunk?: string | Uint8Array): unknown {
    if (this.passthrough) return this.res.end(chunk);
    if (chunk !== undefined) this.take(chunk);
    if (this.sent.size === 0) this.res.end();
    return this;
  }

  on(event: string, listener: (...args: unknown[]) => void): unknown {
    if (event === 'close') this.closeListeners.push(listener);
    return this;
  }

  private take(chunk: string | Uint8Array): void {
    this.buffer += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (let cut = this.buffer.indexOf('\n\n'); cut >= 0; cut = this.buffer.indexOf('\n\n')) {
      const frame = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      this.frame(frame);
    }
  }

  private frame(frame: string): void {
    const data = frame
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    // A comment: the SDK's keep-alive (this stream sends its own).
    if (data === '') return;
    const message = JSON.parse(data) as { method?: string; id?: unknown; result?: unknown; params?: { notifications?: Record<string, unknown> } };
    if (message.method === 'notifications/subscriptions/acknowledged' && !this.acknowledged) return this.acknowledge(message);
    // The SDK's graceful completion: the subscription goes on while tasks are watched.
    if (message.result !== undefined && message.id === this.listenId && this.sent.size > 0) return;
    this.res.write(`${frame}\n\n`);
  }

  private acknowledge(ack: { params?: { notifications?: Record<string, unknown> } }): void {
    this.acknowledged = true;
    this.res.writeHead(200, this.sseHeaders ?? { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const notifications = { ...ack.params?.notifications, taskIds: this.watching };
    this.res.write(frameOf({ ...ack, params: { ...ack.params, notifications } }));
    for (const record of this.pending.values()) this.send(record);
    this.pending.clear();
    if (this.keepAliveMs > 0 && !this.isClosed) {
      this.keepAlive = setInterval(() => this.res.write(': keepalive\n\n'), this.keepAliveMs);
      this.keepAlive.unref();
    }
  }
}
