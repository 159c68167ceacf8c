import type { ServerEvent } from '@modelcontextprotocol/server';
import type { FleetEvent, TaskStatusEvent } from './event-envelope.js';
import type { FleetEventBus, FleetEventBusOptions } from './event-bus.js';
import { LocalListeners } from './local-listeners.js';

/** What every bus shares: this replica's listeners, and publish() as a publishAndWait nobody awaits. */
export abstract class BaseFleetEventBus implements FleetEventBus {
  protected readonly local: LocalListeners;

  constructor(options: FleetEventBusOptions) {
    this.local = new LocalListeners(options);
  }

  publish(event: FleetEvent): void {
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

  abstract publishAndWait(event: FleetEvent): Promise<void>;
  abstract start(): Promise<void>;
  abstract close(): Promise<void>;
}
