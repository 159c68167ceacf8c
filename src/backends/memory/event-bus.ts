import type { ServerEvent } from '@modelcontextprotocol/server';
import { BaseFleetEventBus } from '../../bus/base-event-bus.js';
import type { FleetEventBusOptions } from '../../bus/event-bus.js';

/** One process: publish() delivers to the listeners before it returns. */
export class InMemoryFleetEventBus extends BaseFleetEventBus {
  constructor(options: FleetEventBusOptions = {}) {
    super(options);
  }

  async publishAndWait(event: ServerEvent): Promise<void> {
    this.local.deliver(this.local.admit(event), 'local', Date.now());
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.local.close();
  }
}
