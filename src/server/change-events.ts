import type { ChangeEventBus } from '../bus/event-bus.js';
import type { ChangeEvents } from '../workload/types.js';
import type { ResourceUpdatePublisher } from './legacy/resource-events.js';

/**
 * The one place workloads publish change events: onto the fleet's event bus, which feeds modern
 * listen streams on every replica, and to the legacy sessions subscribed to a resource (their GET
 * streams, wherever held). Legacy sessions get no list_changed: a 2025 session only hears of
 * changes it subscribed to.
 */
export class ChangeEventPublisher implements ChangeEvents {
  constructor(
    private readonly bus: ChangeEventBus,
    private readonly legacy: ResourceUpdatePublisher | undefined,
  ) {}

  async resourceUpdated(uri: string): Promise<number> {
    const [, legacySessions] = await Promise.all([
      this.bus.publishAndWait({ kind: 'resource_updated', uri }),
      this.legacy ? this.legacy.notifyUpdated(uri) : Promise.resolve(0),
    ]);
    return legacySessions;
  }

  toolsChanged(): Promise<void> {
    return this.bus.publishAndWait({ kind: 'tools_list_changed' });
  }

  promptsChanged(): Promise<void> {
    return this.bus.publishAndWait({ kind: 'prompts_list_changed' });
  }

  resourcesChanged(): Promise<void> {
    return this.bus.publishAndWait({ kind: 'resources_list_changed' });
  }
}
