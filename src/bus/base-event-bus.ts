import type { ServerEvent } from '@modelcontextprotocol/server';
import type { BusEvent, TaskStatusEvent } from './event-envelope.js';
import type { ChangeEventBus, ChangeEventBusOptions } from './event-bus.js';
import { LocalListeners } from './local-listeners.js';

/** What every bus shares: this replica's listeners, and publish() as a publishAndWait nobody awaits. */
export abstract class BaseChangeEventBus implements ChangeEventBus {
  protected readonly local: LocalListeners;

  constructor(options: ChangeEventBusOptions) {
    this.local = new LocalListeners(options);
  }

  publish(event: BusEvent): void {
    this.local.settle(this.publishAndWait(event));
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    return this.local.subscribe((event) => {
      if (event.kind !== 'task_status') listener(event);
    });
  }

  subscribeTasks(listener: (event: TaskStatusEvent) => void): () => void {
    return this.local.subscribe((event) => {
      if (event.kind === 'task_status') listener(event);
    });
  }

  abstract publishAndWait(event: BusEvent): Promise<void>;
  abstract start(): Promise<void>;
  abstract close(): Promise<void>;
}
