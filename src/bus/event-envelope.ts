import { isJSONRPCNotification, type ServerEvent } from '@modelcontextprotocol/server';

export const MAX_URI_LENGTH = 8192;
export const MAX_ORIGIN_LENGTH = 64;
/** Bounds what a replica parses off the channel, and so what it may publish. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** At most this long: task ids are 22 characters; anything longer names no task. */
export const MAX_TASK_ID_LENGTH = 128;

/**
 * A task's record changed (tasks extension): the replicas holding listen streams that asked for it
 * read it and notify them. The record itself stays in the task store (a result may be large).
 */
export interface TaskStatusEvent {
  kind: 'task_status';
  taskId: string;
  /** The record's version once written: a replica that already sent it skips the read. */
  version: number;
}

/** What the fleet's bus carries: the SDK's four change events, and task changes. */
export type BusEvent = ServerEvent | TaskStatusEvent;

/** What travels on the channel: the publishing instance, when it published (epoch ms) and the event. */
export interface EventEnvelope {
  o: string;
  t: number;
  e: BusEvent;
}

type EventKind = BusEvent['kind'];
const KINDS: ReadonlySet<string> = new Set<EventKind>([
  'tools_list_changed',
  'prompts_list_changed',
  'resources_list_changed',
  'resource_updated',
  'task_status',
]);

const isKind = (value: unknown): value is EventKind => typeof value === 'string' && KINDS.has(value);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The event rebuilt from its known fields, or undefined when it is not one: an unknown kind, a
 * resource_updated without a URI of bounded length, params that are not notification params, or
 * a task_status without a task id of bounded length and a version.
 */
export function parseEvent(value: unknown): BusEvent | undefined {
  if (!isRecord(value) || !isKind(value.kind)) return undefined;
  const { kind, uri, params } = value;
  if (kind === 'task_status') {
    const { taskId, version } = value;
    if (typeof taskId !== 'string' || taskId.length === 0 || taskId.length > MAX_TASK_ID_LENGTH) return undefined;
    return Number.isSafeInteger(version) ? { kind, taskId, version: version as number } : undefined;
  }
  if (params !== undefined && !isJSONRPCNotification({ jsonrpc: '2.0', method: 'notifications/event', params })) return undefined;
  const withParams = params === undefined ? {} : { params: params as ServerEvent['params'] };
  if (kind !== 'resource_updated') return { kind, ...withParams };
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > MAX_URI_LENGTH) return undefined;
  return { kind, uri, ...withParams };
}

/** The event as every replica will see it; throws a TypeError for one the bus cannot carry. */
export function admitEvent(event: BusEvent): BusEvent {
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
