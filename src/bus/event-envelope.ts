import { isJSONRPCNotification, type ServerEvent } from '@modelcontextprotocol/server';

export const MAX_URI_LENGTH = 8192;
export const MAX_ORIGIN_LENGTH = 64;
/** Bounds what a replica parses off the channel, and so what it may publish. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** What travels on the channel: the publishing instance, when it published (epoch ms) and the event. */
export interface EventEnvelope {
  o: string;
  t: number;
  e: ServerEvent;
}

type EventKind = ServerEvent['kind'];
const KINDS: ReadonlySet<string> = new Set<EventKind>(['tools_list_changed', 'prompts_list_changed', 'resources_list_changed', 'resource_updated']);

const isKind = (value: unknown): value is EventKind => typeof value === 'string' && KINDS.has(value);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The event rebuilt from its known fields, or undefined when it is not one: an unknown kind, a
 * resource_updated without a URI of bounded length, or params that are not notification params.
 */
export function parseEvent(value: unknown): ServerEvent | undefined {
  if (!isRecord(value) || !isKind(value.kind)) return undefined;
  const { kind, uri, params } = value;
  if (params !== undefined && !isJSONRPCNotification({ jsonrpc: '2.0', method: 'notifications/event', params })) return undefined;
  const withParams = params === undefined ? {} : { params: params as ServerEvent['params'] };
  if (kind !== 'resource_updated') return { kind, ...withParams };
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > MAX_URI_LENGTH) return undefined;
  return { kind, uri, ...withParams };
}

/** The event as every replica will see it; throws a TypeError for one the bus cannot carry. */
export function admitEvent(event: ServerEvent): ServerEvent {
  const admitted = parseEvent(event);
  if (!admitted) throw new TypeError(`not a server event the bus can carry: ${describeValue(event)}`);
  return admitted;
}

function describeValue(value: unknown): string {
  const kind = isRecord(value) ? value.kind : undefined;
  return typeof kind === 'string' ? `kind ${JSON.stringify(kind.slice(0, 40))}` : typeof value;
}

/** Throws a RangeError when the envelope exceeds what other replicas would accept. */
export function encodeEnvelope(envelope: EventEnvelope): string {
  const payload = JSON.stringify(envelope);
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`server event of ${Buffer.byteLength(payload)} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
  return payload;
}

/** The envelope, or undefined for anything malformed; never throws. */
export function decodeEnvelope(payload: string): EventEnvelope | undefined {
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { o, t, e } = value;
  if (typeof o !== 'string' || o.length === 0 || o.length > MAX_ORIGIN_LENGTH) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
  const event = parseEvent(e);
  return event && { o, t, e: event };
}
