import { randomBytes } from 'node:crypto';
import { ENTRY_ID, STANDALONE_STREAM } from './stream-manager.js';

/**
 * SSE event ids are `<streamKey>.<entryId>`: the key names the stream (so a Last-Event-ID sent to
 * any replica says which stream to resume) and the entry id its position in that stream's log.
 */
export function formatEventId(streamKey: string, entryId: string): string {
  return `${streamKey}.${entryId}`;
}

const STREAM_KEY = /^(g|p[A-Za-z0-9_-]{16,32})$/;
const MAX_ENTRY_PART = 2n ** 64n - 1n;

/**
 * Entry ids are two unsigned 64-bit numbers (see compareEntryIds): a larger part is no entry of any
 * store, and a resume after the largest id has no successor.
 */
const isStreamEntryId = (entryId: string): boolean => {
  if (!ENTRY_ID.test(entryId)) return false;
  const parts = entryId.split('-').map((part) => BigInt(part));
  return parts.every((part) => part <= MAX_ENTRY_PART) && !parts.every((part) => part === MAX_ENTRY_PART);
};

/**
 * The standalone stream's id also carries the position in the fleet's resource-update log
 * (`g.<entryId>.<updatesEntryId>`): its events come from two logs, the session's own and the one
 * every replica shares for notifications/resources/updated.
 */
export function formatStandaloneEventId(entryId: string, updatesEntryId: string): string {
  return `${STANDALONE_STREAM}.${entryId}.${updatesEntryId}`;
}

export interface ParsedEventId {
  streamKey: string;
  entryId: string;
  /** Standalone stream only: the position in the resource-update log (absent in ids written before it existed). */
  updatesEntryId?: string;
}

export function parseEventId(eventId: string): ParsedEventId | undefined {
  const dot = eventId.indexOf('.');
  if (dot < 0) return undefined;
  const streamKey = eventId.slice(0, dot);
  if (!STREAM_KEY.test(streamKey)) return undefined;
  const [entryId = '', updatesEntryId, ...rest] = eventId.slice(dot + 1).split('.');
  if (!isStreamEntryId(entryId) || rest.length > 0) return undefined;
  if (updatesEntryId === undefined) return { streamKey, entryId };
  if (streamKey !== STANDALONE_STREAM || !isStreamEntryId(updatesEntryId)) return undefined;
  return { streamKey, entryId, updatesEntryId };
}

export function newPostStreamKey(): string {
  return `p${randomBytes(16).toString('base64url')}`;
}

export { STANDALONE_STREAM };
