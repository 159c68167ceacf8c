import { randomBytes } from 'node:crypto';
import { BaseChangeEventBus } from '../../bus/base-event-bus.js';
import { decodeEnvelope, encodeEnvelope } from '../../bus/event-envelope.js';
import type { BusEvent, ChangeEventBusOptions } from '../../bus/event-bus.js';
import type { PgDatabase } from './connection.js';
import type { PgListener } from './listener.js';
import { channelsOf } from './schema.js';
import { Spill } from './spill.js';

export interface PgEventBusOptions extends ChangeEventBusOptions {
  db: PgDatabase;
  listener: PgListener;
  schema: string;
  /** Marks this replica's envelopes, so it skips them when they come back; random by default. */
  instanceId?: string;
}

/**
 * One channel for the fleet (`<schema>_bus`). Envelopes up to the bus's 64 KiB travel through the
 * spill table when they exceed NOTIFY's limit. A replica's publishes are sent one after another:
 * two concurrent ones on two pooled connections could commit, and so arrive, out of order.
 */
export class PgChangeEventBus extends BaseChangeEventBus {
  readonly kind = 'postgres' as const;
  readonly instanceId: string;
  readonly channel: string;
  private readonly spill: Spill;
  private sending: Promise<unknown> = Promise.resolve();
  private started = false;

  private readonly onNotification = async (payload: string): Promise<void> => {
    const text = await this.spill.resolve(payload);
    const envelope = text === undefined ? undefined : decodeEnvelope(text);
    if (!envelope || envelope.o === this.instanceId) return;
    this.local.deliver(envelope.e, 'store', envelope.t);
  };

  constructor(private readonly options: PgEventBusOptions) {
    super(options);
    this.instanceId = options.instanceId ?? randomBytes(9).toString('base64url');
    this.channel = channelsOf(options.schema).bus;
    this.spill = new Spill(options.db, options.schema);
  }

  async publishAndWait(event: BusEvent): Promise<void> {
    const admitted = this.local.admit(event);
    const publishedAt = Date.now();
    const payload = encodeEnvelope({ o: this.instanceId, t: publishedAt, e: admitted });
    this.local.deliver(admitted, 'local', publishedAt);
    const sent = this.sending.then(() => this.spill.notify('server_event_publish', this.channel, payload));
    this.sending = sent.catch(() => {});
    await sent;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.options.listener.listen(this.channel, this.onNotification);
    this.started = true;
  }

  async close(): Promise<void> {
    this.local.close();
    await this.options.listener.unlisten(this.channel, this.onNotification);
  }
}
