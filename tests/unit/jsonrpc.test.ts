import { isJSONRPCResponse, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { isAnswer } from '../../src/server/jsonrpc.js';

const messages: Array<[string, JSONRPCMessage]> = [
  ['a request', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami' } }],
  ['a notification', { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }],
  ['a result', { jsonrpc: '2.0', id: 'a~1', result: { content: [] } }],
  ['an error', { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'bad' } }],
  ['an error naming no request', { jsonrpc: '2.0', error: { code: -32700, message: 'parse error' } } as unknown as JSONRPCMessage],
];

describe('isAnswer', () => {
  it.each(messages)('agrees with the SDK’s response guard on %s, for responses that name their request', (_, message) => {
    expect(isAnswer(message)).toBe(isJSONRPCResponse(message) && (message as { id?: unknown }).id !== undefined);
  });

  it('tells answers from requests and notifications', () => {
    expect(messages.map(([, message]) => isAnswer(message))).toEqual([false, false, true, true, false]);
  });
});
