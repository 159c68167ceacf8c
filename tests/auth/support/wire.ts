import { post, PROTOCOL_VERSION, request, type RpcAnswer } from '../../support/raw-mcp.js';

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A legacy session opened with `token`; its id. */
export async function initializeAs(url: string, token: string): Promise<string> {
  const answer = await post(
    url,
    request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: { sampling: {} }, clientInfo: { name: 'auth-test', version: '1' } }),
    undefined,
    bearer(token),
  );
  const sessionId = answer.headers.get('mcp-session-id');
  if (answer.status !== 200 || !sessionId) throw new Error(`initialize failed: ${answer.status} ${JSON.stringify(answer.messages)}`);
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId, bearer(token));
  return sessionId;
}

/** The parameters of a `WWW-Authenticate: Bearer k="v", ...` challenge. */
export function challengeOf(answer: RpcAnswer): Record<string, string> {
  const header = answer.headers.get('www-authenticate') ?? '';
  if (!header.startsWith('Bearer ')) throw new Error(`not a Bearer challenge: ${JSON.stringify(header)}`);
  return Object.fromEntries([...header.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!.replace(/\\(.)/g, '$1')]));
}

/** The JSON-RPC error of an answer, which every refusal must carry. */
export function rpcError(answer: RpcAnswer): { code: number; message: string } {
  const error = answer.messages[0]?.error;
  if (answer.messages.length !== 1 || answer.messages[0]?.jsonrpc !== '2.0' || typeof error?.code !== 'number') {
    throw new Error(`no JSON-RPC error body: ${JSON.stringify(answer.messages)}`);
  }
  return error;
}

/** Tool names in a tools/list answer. */
export function toolNames(answer: RpcAnswer): string[] {
  const result = answer.messages.find((m) => 'result' in m)?.result as { tools?: Array<{ name: string }> } | undefined;
  if (!result?.tools) throw new Error(`no tools/list result: ${answer.status} ${JSON.stringify(answer.messages)}`);
  return result.tools.map((t) => t.name);
}
