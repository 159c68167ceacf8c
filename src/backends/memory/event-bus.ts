import { BaseChangeEventBus } from '../../bus/base-event-bus.js';
import type { BusEvent, ChangeEventBusOptions } from '../../bus/event-bus.js';

/** One process: publish() delivers to the listeners before it returns. */
export class InMemoryChangeEventBus extends BaseChangeEventBus {
  constructor(options: ChangeEventBusOptions = {}) {
    super(options);
  }

  async publishAndWait(event: BusEvent): Promise<void> {
    this.local.deliver(this.local.admit(event), 'local', Date.now());
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.local.close();
  }
}
