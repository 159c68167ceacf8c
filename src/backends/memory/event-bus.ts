import { BaseFleetEventBus } from '../../bus/base-event-bus.js';
import type { FleetEvent, FleetEventBusOptions } from '../../bus/event-bus.js';

/** One process: publish() delivers to the listeners before it returns. */
export class InMemoryFleetEventBus extends BaseFleetEventBus {
  constructor(options: FleetEventBusOptions = {}) {
    super(options);
  }

  async publishAndWait(event: FleetEvent): Promise<void> {
    this.local.deliver(this.local.admit(event), 'local', Date.now());
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.local.close();
  }
}
