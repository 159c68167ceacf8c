import type { ServerEvent, ServerEventBus } from '@modelcontextprotocol/server';
import type { DeliveryPath } from '../observability/observer.js';
import type { BusEvent, TaskStatusEvent } from './event-envelope.js';

export type { BusEvent, TaskStatusEvent };

export interface ChangeEventBusOptions {
  /**
   * Told of what cannot be thrown to anyone: a failed publish() (StoreUnavailableError when the store
   * refused it, TypeError for an event the bus cannot carry) and errors thrown by listeners.
   * Defaults to a warning in the log.
   */
  onError?: (error: Error) => void;
  /** Once per event handed to this replica's listeners, with the seconds since it was published. */
  onDelivered?: (path: DeliveryPath, latencySeconds: number) => void;
}

/**
 * The source of `subscriptions/listen` change events for every replica of the fleet. An event
 * published on any replica reaches each listener on every replica once, in the order its
 * publisher published.
 */
export interface ChangeEventBus extends ServerEventBus {
  publish(event: BusEvent): void;
  /** The SDK's change events only (what its listen streams know). */
  subscribe(listener: (event: ServerEvent) => void): () => void;
  /** Task changes only, from every replica. */
  subscribeTasks(listener: (event: TaskStatusEvent) => void): () => void;
  /**
   * Delivers to this replica's listeners at once and hands the event to the other replicas;
   * rejects with StoreUnavailableError when the store refuses it (local listeners have it by then).
   */
  publishAndWait(event: BusEvent): Promise<void>;
  /** Starts receiving other replicas' events; call once before serving. */
  start(): Promise<void>;
  /** Stops delivery to this replica's listeners; publishing afterwards fails. */
  close(): Promise<void>;
}
