import type { Client, McpSubscription, SubscriptionFilter } from '@modelcontextprotocol/client';

export interface SubscriptionReopen {
  /** How the previous stream ended: `remote` (dropped, or ended without a response), `graceful` (the server answered the listen, e.g. on shutdown). */
  cause: 'remote' | 'graceful';
  /** Listen requests it took to get the new stream acknowledged. */
  attempts: number;
  honoredFilter: SubscriptionFilter;
}

export interface ListenBackoff {
  /** Delay before the first re-listen (default 100 ms), so a server ending every stream at once costs at most a listen per delay; doubles per failed listen. */
  initialDelayMs?: number;
  /** The delay never exceeds this (default 5 s). */
  maxDelayMs?: number;
  /** Consecutive failed listen requests before giving up (default 10); a closed Client gives up at once. */
  maxAttempts?: number;
}

export interface DurableSubscriptionOptions {
  onReopen?: (reopen: SubscriptionReopen) => void;
  /** Called once if re-listening gave up; `ended` then resolves with the same error. */
  onLost?: (error: Error) => void;
  backoff?: ListenBackoff;
  /** How long each listen may wait for the server's acknowledgement (SDK default otherwise). */
  ackTimeoutMs?: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * A 2026-07-28 `subscriptions/listen` that stays open. The revision has no resumption: when the
 * server ends the stream (a replica restarted or drained) or the connection drops, the subscription
 * is gone, and this listens again with the same filter (through the load balancer, so usually on
 * another replica), with a capped, jittered exponential backoff. Notifications keep arriving at the
 * Client's `setNotificationHandler` registrations; those sent while no stream was open are missed.
 */
export class DurableSubscription {
  /** Streams re-opened so far. */
  reopens = 0;
  /** Resolves when the subscription is over: `local` after close(), or the error re-listening gave up with. */
  readonly ended: Promise<'local' | Error>;
  private current: McpSubscription;
  private readonly stop = new AbortController();
  private end!: (outcome: 'local' | Error) => void;

  private constructor(
    private readonly client: Client,
    readonly filter: SubscriptionFilter,
    private readonly options: DurableSubscriptionOptions,
    first: McpSubscription,
  ) {
    this.current = first;
    this.ended = new Promise((resolve) => (this.end = resolve));
    void this.watch(first);
  }

  /** Opens the first stream; rejects as `client.listen()` does (e.g. on a 2025-era connection). */
  static async open(client: Client, filter: SubscriptionFilter, options: DurableSubscriptionOptions = {}): Promise<DurableSubscription> {
    const first = await client.listen(filter, { timeout: options.ackTimeoutMs });
    return new DurableSubscription(client, filter, options, first);
  }

  /** What the server agreed to send on the current stream. */
  get honoredFilter(): SubscriptionFilter {
    return this.current.honoredFilter;
  }

  async close(): Promise<void> {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.end('local');
    await this.current.close();
  }

  private get backoff(): Required<ListenBackoff> {
    const { initialDelayMs = 100, maxDelayMs = 5000, maxAttempts = 10 } = this.options.backoff ?? {};
    return { initialDelayMs, maxDelayMs, maxAttempts };
  }

  /** Jittered, so the clients a drained replica let go of do not all listen again at once. */
  private delay(failures: number): number {
    const { initialDelayMs, maxDelayMs } = this.backoff;
    return Math.min(initialDelayMs * 2 ** failures, maxDelayMs) * (0.5 + Math.random() / 2);
  }

  private async watch(subscription: McpSubscription): Promise<void> {
    const cause = await subscription.closed;
    if (cause === 'local' || this.stop.signal.aborted) return;
    for (let attempts = 1; ; attempts++) {
      await sleep(this.delay(attempts - 1), this.stop.signal);
      if (this.stop.signal.aborted) return;
      try {
        const next = await this.client.listen(this.filter, { timeout: this.options.ackTimeoutMs });
        if (this.stop.signal.aborted) {
          await next.close();
          return;
        }
        this.current = next;
        this.reopens += 1;
        this.options.onReopen?.({ cause, attempts, honoredFilter: next.honoredFilter });
        void this.watch(next);
        return;
      } catch (error) {
        // A closed Client will not connect again by itself: no point in waiting out the attempts.
        if (attempts >= this.backoff.maxAttempts || this.client.transport === undefined) {
          this.lose(
            new Error(`subscriptions/listen could not be re-opened after ${attempts} attempt(s): ${error instanceof Error ? error.message : String(error)}`),
          );
          return;
        }
      }
    }
  }

  private lose(error: Error): void {
    this.stop.abort();
    this.end(error);
    this.options.onLost?.(error);
  }
}
