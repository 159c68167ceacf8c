import type { LoggingLevel } from '@modelcontextprotocol/server';
import type { NewSession, SessionRecord } from './session-store.js';

/** What a session's record holds that never changes after create: stored as one JSON text. */
interface StaticFields {
  protocolVersion: string;
  clientCapabilities: SessionRecord['clientCapabilities'];
  clientInfo: SessionRecord['clientInfo'];
  createdAt: number;
  principal?: SessionRecord['principal'];
}

/** The JSON text of a new session's unchanging fields, as a store keeps it. */
export function encodeSessionFields(session: NewSession, createdAt: number): string {
  const fields: StaticFields = {
    protocolVersion: session.protocolVersion,
    clientCapabilities: session.clientCapabilities,
    clientInfo: session.clientInfo,
    createdAt,
    principal: session.principal,
  };
  return JSON.stringify(fields);
}

/** What a store keeps beside the unchanging fields, read back with them. */
export interface ChangingFields {
  /** As stored: absent (null or undefined) until the client sets a level. */
  logLevel: string | null | undefined;
  subscriptions: string[];
}

/** A session's record (less lastAccessAt, which the touch sets) from its stored parts. */
export function decodeSessionRecord(id: string, fieldsJson: string, changing: ChangingFields): Omit<SessionRecord, 'lastAccessAt'> {
  const fields = JSON.parse(fieldsJson) as StaticFields;
  return {
    id,
    protocolVersion: fields.protocolVersion,
    clientCapabilities: fields.clientCapabilities,
    clientInfo: fields.clientInfo,
    createdAt: fields.createdAt,
    principal: fields.principal,
    logLevel: (changing.logLevel as LoggingLevel | null | undefined) ?? undefined,
    subscriptions: changing.subscriptions,
  };
}
