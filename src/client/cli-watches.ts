import type { Client, SubscriptionFilter } from '@modelcontextprotocol/client';
import type { Printer } from './cli-answers.js';
import { DurableSubscription } from './durable-subscription.js';
import type { RecoveringTransport } from './recovering-transport.js';

const LIST_CHANGES: SubscriptionFilter = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };

function describeFilter(filter: SubscriptionFilter): string {
  const lists = (['tools', 'prompts', 'resources'] as const).filter((kind) => filter[`${kind}ListChanged`]);
  const parts = [...(lists.length > 0 ? [`${lists.join(', ')} list changes`] : []), ...(filter.resourceSubscriptions ?? []).map((uri) => `updates of ${uri}`)];
  return parts.length > 0 ? parts.join('; ') : 'nothing (the server honoured none of it)';
}

/**
 * What `listen` and `subscribe` keep open, in the era the client negotiated. 2025: the session's GET
 * stream (the transport opens and re-opens it) and resources/subscribe, sent again in the new
 * session after a recovery. 2026-07-28: one subscriptions/listen per command, re-opened when it
 * drops; `lost` rejects when one gives up.
 */
export class Watches {
  /** Rejects when a 2026-07-28 subscription could not be re-opened. */
  readonly lost: Promise<never>;
  private readonly subscriptions: DurableSubscription[] = [];
  private readonly subscribed = new Set<string>();
  private fail!: (error: Error) => void;

  constructor(
    private readonly client: Client,
    private readonly transport: RecoveringTransport,
    private readonly printer: Printer,
  ) {
    this.lost = new Promise<never>((_resolve, reject) => (this.fail = reject));
    this.lost.catch(() => {});
  }

  private get modern(): boolean {
    return this.transport.era === 'modern';
  }

  /** The hint to print once the notifications can flow. */
  async listen(uris: string[]): Promise<string> {
    if (this.modern) return `listening for ${await this.open({ ...LIST_CHANGES, ...(uris.length > 0 && { resourceSubscriptions: uris }) })} (Ctrl-C to stop)`;
    await this.transport.whenStreamOpen();
    for (const uri of uris) await this.subscribeInSession(uri);
    return `listening for notifications of session ${this.transport.sessionId ?? '-'} (Ctrl-C to stop)`;
  }

  async subscribe(uri: string): Promise<string> {
    if (this.modern) return `subscribed to ${uri}: ${await this.open({ resourceSubscriptions: [uri] })} (Ctrl-C to stop)`;
    await this.transport.whenStreamOpen();
    await this.subscribeInSession(uri);
    return `subscribed to ${uri} in session ${this.transport.sessionId ?? '-'} (Ctrl-C to stop)`;
  }

  /** 2025: a new session has no subscriptions; make them again. */
  resubscribe(): void {
    for (const uri of this.subscribed) {
      this.client.subscribeResource({ uri }).catch((error: unknown) => this.printer.info(`could not subscribe to ${uri} again: ${String(error)}`));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close()));
  }

  private async subscribeInSession(uri: string): Promise<void> {
    await this.client.subscribeResource({ uri });
    this.subscribed.add(uri);
  }

  private async open(filter: SubscriptionFilter): Promise<string> {
    const subscription = await DurableSubscription.open(this.client, filter, {
      onReopen: ({ cause, attempts }) => this.printer.info(`the listen stream ended (${cause}); listening again (${attempts} attempt(s))`),
      onLost: (error) => this.fail(error),
    });
    this.subscriptions.push(subscription);
    return describeFilter(subscription.honoredFilter);
  }
}
