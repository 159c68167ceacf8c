import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import { ErrorCode } from '../jsonrpc.js';

/** Where a life's answers go: the HTTP answer of its POST (ResponseSink). */
export interface AnswerWriter {
  write(message: JSONRPCMessage): Promise<void>;
  /** Every request is answered, cancelled or abandoned: the answer ends. */
  settle(): void;
}

/** What a life needs to make its requests visible to the fleet once their answer is a resumable stream. */
export interface LifeSession {
  id: string;
  inflight: InFlightRegistry;
}

/**
 * One legacy HTTP request (POST or DELETE) from its arrival to its end, and the one owner of the
 * JSON-RPC requests it carries: which are still unanswered, the transport running them, where
 * their answers go, and the fleet's record of them. A request leaves it once, whichever comes
 * first: its answer, its cancellation, or its abandonment at the drain deadline; what comes after
 * for it is ignored. The life ends when its HTTP handler has returned and no request is left
 * (a client that left early does not end it: its requests still run and are logged for a resume).
 */
export class RequestLife {
  private readonly unanswered = new Set<RequestId>();
  private runner: object | undefined;
  private writer: AnswerWriter | undefined;
  private session: LifeSession | undefined;
  private streamKey: string | undefined;
  private handled = false;
  private over = false;
  private readonly endCallbacks: Array<() => void> = [];

  constructor(private readonly lives: RequestLives) {}

  /** The requests of this POST, answered through `writer`, run by `runner` (a session's transport). */
  carry(ids: readonly RequestId[], writer: AnswerWriter, runner: object, session: LifeSession | undefined): void {
    for (const id of ids) this.unanswered.add(id);
    this.writer = writer;
    this.runner = runner;
    this.session = session;
  }

  /** The request is handed to the server: from now on its runner finds it by id. */
  run(id: RequestId): void {
    if (this.runner !== undefined && this.unanswered.has(id)) this.lives.index(this.runner, id, this);
  }

  get answerWriter(): AnswerWriter | undefined {
    return this.writer;
  }

  isUnanswered(id: RequestId): boolean {
    return this.unanswered.has(id);
  }

  /** Whether `id` is the only request left: its answer completes the POST's answer. */
  isLast(id: RequestId): boolean {
    return this.unanswered.size === 1 && this.unanswered.has(id);
  }

  get unansweredIds(): RequestId[] {
    return [...this.unanswered];
  }

  /** The answer of `id` went out; false when it had already left (its answer is then not sent). */
  answered(id: RequestId): boolean {
    return this.leave(id);
  }

  /** The client cancelled `id`: no answer will be sent for it (the spec says none is). */
  cancel(id: RequestId): boolean {
    return this.leave(id);
  }

  /** Drain deadline: every request still here is answered with an error, logged like any answer. */
  async abandon(message: string): Promise<void> {
    const writer = this.writer;
    if (writer === undefined) return;
    for (const id of [...this.unanswered]) await writer.write({ jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message } });
  }

  /**
   * The answer became a stream the client can resume on any replica: the fleet learns who runs
   * its requests, so a resume elsewhere can end them if this instance dies.
   */
  streaming(streamKey: string): void {
    this.streamKey = streamKey;
    this.record();
  }

  /** The HTTP handler returned (the answer is complete, or the client left). */
  handlerReturned(): void {
    this.handled = true;
    this.endIfOver();
  }

  get ended(): boolean {
    return this.over;
  }

  onEnd(callback: () => void): void {
    if (this.over) callback();
    else this.endCallbacks.push(callback);
  }

  private leave(id: RequestId): boolean {
    if (!this.unanswered.delete(id)) return false;
    if (this.runner !== undefined) this.lives.unindex(this.runner, id, this);
    if (this.unanswered.size > 0) {
      // Answered in parts: the record names only what is still unanswered.
      this.record();
      return true;
    }
    this.release();
    this.writer?.settle();
    this.endIfOver();
    return true;
  }

  /** Sent without waiting: the record and its release go out in order on one connection. */
  private record(): void {
    if (this.session === undefined || this.streamKey === undefined || this.unanswered.size === 0) return;
    this.session.inflight.record(this.session.id, this.streamKey, [...this.unanswered]).catch(() => {});
  }

  private release(): void {
    if (this.session === undefined || this.streamKey === undefined) return;
    this.session.inflight.release(this.session.id, this.streamKey).catch(() => {});
  }

  private endIfOver(): void {
    if (this.over || !this.handled || this.unanswered.size > 0) return;
    this.over = true;
    this.lives.forget(this);
    for (const callback of this.endCallbacks.splice(0)) callback();
  }
}

/**
 * The lives of this replica's legacy requests: the only place a request in flight is kept. A
 * transport finds the life of a request it runs here; a drain waits for them all.
 */
export class RequestLives {
  private readonly lives = new Set<RequestLife>();
  private readonly byRunner = new Map<object, Map<RequestId, RequestLife>>();

  /** A request has arrived. */
  begin(): RequestLife {
    const life = new RequestLife(this);
    this.lives.add(life);
    return life;
  }

  /** The life of a request `runner` runs, while it is unanswered. */
  running(runner: object, id: RequestId): RequestLife | undefined {
    return this.byRunner.get(runner)?.get(id);
  }

  /** How many requests `runner` runs (a runtime with none may be evicted). */
  countOf(runner: object): number {
    return this.byRunner.get(runner)?.size ?? 0;
  }

  get size(): number {
    return this.lives.size;
  }

  /** `runner` closed (its session deleted, expired or evicted): its requests will never be answered. */
  cancelAll(runner: object): void {
    for (const [id, life] of [...(this.byRunner.get(runner) ?? [])]) life.cancel(id);
  }

  /**
   * SIGTERM: waits for every life up to `timeoutMs`; past it, each unanswered request is answered
   * with `reason` (logged like any answer, never silently), within `abandonMs`. Resolves with how
   * many lives were still running at the deadline.
   */
  async drain(timeoutMs: number, reason: string, abandonMs = 2000): Promise<number> {
    const all = () => Promise.all([...this.lives].map((life) => new Promise<void>((resolve) => life.onEnd(resolve))));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), timeoutMs)));
    const outcome = await Promise.race([all(), deadline]);
    clearTimeout(timer);
    if (outcome !== 'deadline') return 0;
    const late = [...this.lives].filter((life) => life.unansweredIds.length > 0);
    await Promise.race([Promise.allSettled(late.map((life) => life.abandon(reason))), new Promise((resolve) => setTimeout(resolve, abandonMs).unref())]);
    return late.length;
  }

  /** @internal RequestLife's own bookkeeping. */
  index(runner: object, id: RequestId, life: RequestLife): void {
    let running = this.byRunner.get(runner);
    if (!running) this.byRunner.set(runner, (running = new Map()));
    running.set(id, life);
  }

  /** @internal */
  unindex(runner: object, id: RequestId, life: RequestLife): void {
    const running = this.byRunner.get(runner);
    if (running?.get(id) !== life) return;
    running.delete(id);
    if (running.size === 0) this.byRunner.delete(runner);
  }

  /** @internal */
  forget(life: RequestLife): void {
    this.lives.delete(life);
  }
}
