import { randomUUID } from 'node:crypto';
import type { McpSubscription } from '@modelcontextprotocol/client';
import { FleetClient, tally } from '../support/fleet-client.js';
import { ModernClient } from '../support/modern-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BystanderReport {
  name: string;
  /** Notifications the bystander caused and should have heard. */
  expected: number;
  received: number;
  duplicates: number;
  errors: string[];
}

/**
 * A well-behaved client going about its business next to the fuzzer, one call every `paceMs`;
 * it must hear everything it caused, once, and see no error.
 */
abstract class Bystander {
  readonly errors: string[] = [];
  protected ticks = 0;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly paceMs: number,
  ) {}

  protected abstract tick(n: number): Promise<void>;
  /** Errors its SDK client reported on its own (a stream that failed, a message it could not handle). */
  protected abstract clientErrors(): string[];
  abstract report(): BystanderReport;
  protected abstract disconnect(): Promise<void>;

  get errorsSoFar(): string[] {
    return [...this.errors, ...this.clientErrors()];
  }

  start(): void {
    this.running = (async () => {
      while (!this.stopped) {
        const n = this.ticks;
        try {
          await this.tick(n);
          this.ticks++;
        } catch (error) {
          this.errors.push(`tick ${n}: ${(error as Error).message}`);
        }
        await sleep(this.paceMs);
      }
    })();
  }

  private stopping: Promise<BystanderReport> | undefined;

  /** Stops calling; then waits (bounded) until everything it caused has arrived, and disconnects. */
  stop(): Promise<BystanderReport> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<BystanderReport> {
    this.stopped = true;
    await this.running;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && this.report().received < this.report().expected) await sleep(50);
    // Late duplicates would arrive now.
    await sleep(300);
    const report = this.report();
    await this.disconnect().catch((error: Error) => this.errors.push(`close: ${error.message}`));
    return report;
  }
}

/** A 2025-11-25 session holding its GET stream, calling notify (two messages each) on itself. */
export class LegacyBystander extends Bystander {
  private constructor(
    private readonly client: FleetClient,
    paceMs: number,
  ) {
    super('legacy session', paceMs);
  }

  static async connect(url: string, paceMs: number): Promise<LegacyBystander> {
    const client = await FleetClient.connect(url);
    await client.waitForStream();
    return new LegacyBystander(client, paceMs);
  }

  protected async tick(n: number): Promise<void> {
    await this.client.tool('notify', { message: `bystander-${n}`, count: 2 });
  }

  protected clientErrors(): string[] {
    return this.client.errors.map((e) => e.message);
  }

  /** How many times the GET stream was (re)opened: 1 when it was never lost. */
  get streamsOpened(): number {
    return this.client.served.filter((s) => s.method === 'GET' && s.status === 200).length;
  }

  report(): BystanderReport {
    let received = 0;
    let duplicates = 0;
    for (let n = 0; n < this.ticks; n++) {
      const t = tally(this.client.notifications, `bystander-${n}`);
      received += t.received;
      duplicates += t.duplicates;
    }
    return { name: this.name, expected: this.ticks * 2, received, duplicates, errors: this.errorsSoFar };
  }

  protected disconnect(): Promise<void> {
    return this.client.close();
  }
}

/** A 2026-07-28 client holding a listen stream on its own counter, bumping it. */
export class ModernBystander extends Bystander {
  private readonly reported: string[] = [];

  private constructor(
    private readonly client: ModernClient,
    private readonly subscription: McpSubscription,
    private readonly counter: string,
    paceMs: number,
  ) {
    super('modern listener', paceMs);
    void subscription.closed.then((cause) => {
      if (cause !== 'local') this.reported.push(`the listen stream ended (${cause})`);
    });
  }

  static async connect(url: string, paceMs: number): Promise<ModernBystander> {
    const client = await ModernClient.connect(url);
    const errors: string[] = [];
    client.client.onerror = (error) => errors.push(error.message);
    const counter = `bystander-${randomUUID()}`;
    const subscription = await client.client.listen({ resourceSubscriptions: [`counter://${counter}`] });
    const bystander = new ModernBystander(client, subscription, counter, paceMs);
    client.client.onerror = (error) => bystander.reported.push(error.message);
    bystander.reported.push(...errors);
    return bystander;
  }

  protected async tick(): Promise<void> {
    await this.client.tool('bump', { name: this.counter });
  }

  protected clientErrors(): string[] {
    return this.reported;
  }

  report(): BystanderReport {
    const heard = this.client.updates.filter((uri) => uri === `counter://${this.counter}`).length;
    return {
      name: this.name,
      expected: this.ticks,
      received: Math.min(heard, this.ticks),
      duplicates: Math.max(0, heard - this.ticks),
      errors: this.errorsSoFar,
    };
  }

  protected async disconnect(): Promise<void> {
    await this.subscription.close();
    await this.client.close();
  }
}
