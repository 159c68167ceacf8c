import { log } from '../log.js';
import { admitEvent, type BusEvent } from './event-envelope.js';
import type { DeliveryPath } from '../observability/observer.js';
import type { ChangeEventBusOptions } from './event-bus.js';

type Listener = (event: BusEvent) => void;
/** One per subscription, so a function subscribed twice is two subscriptions. */
interface Subscription {
  listener: Listener;
}

const logBusError = (error: Error) => log.warn('server event bus', { reason: error.message });

/**
 * One replica's listeners, called synchronously in turn. Nothing a listener or an observer callback
 * throws escapes (it may run inside the store client's message handler); it goes to onError.
 */
export class LocalListeners {
  private readonly subscriptions = new Set<Subscription>();
  /** The subscription being called: an event it publishes is not echoed back to it (ServerEventBus contract). */
  private calling: Subscription | undefined;
  private closed = false;

  constructor(private readonly options: ChangeEventBusOptions) {}

  subscribe(listener: Listener): () => void {
    const subscription = { listener };
    if (!this.closed) this.subscriptions.add(subscription);
    return () => {
      this.subscriptions.delete(subscription);
    };
  }

  /** The event as it will be delivered; throws when the bus is closed or cannot carry it. */
  admit(event: BusEvent): BusEvent {
    if (this.closed) throw new Error('the server event bus is closed');
    return admitEvent(event);
  }

  deliver(event: BusEvent, path: DeliveryPath, publishedAtMs: number): void {
    if (this.closed) return;
    const latencySeconds = Math.max(0, Date.now() - publishedAtMs) / 1000;
    this.guard(() => this.options.onDelivered?.(path, latencySeconds));
    const publisher = this.calling;
    for (const subscription of [...this.subscriptions]) {
      // Skips those unsubscribed by an earlier listener of this same event.
      if (subscription === publisher || !this.subscriptions.has(subscription)) continue;
      this.calling = subscription;
      this.guard(() => subscription.listener(event));
    }
    this.calling = publisher;
  }

  /** Reports the failure of a publish nobody awaits. */
  settle(publishing: Promise<void>): void {
    publishing.catch((error: unknown) => this.report(error));
  }

  close(): void {
    this.closed = true;
    this.subscriptions.clear();
  }

  private guard(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    try {
      (this.options.onError ?? logBusError)(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An error callback that throws leaves nobody to tell.
    }
  }
}
