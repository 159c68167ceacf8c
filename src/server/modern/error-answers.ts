import { askedErrorStatus } from '../../http/error-status.js';
import { toolStoreFailure } from '../tool-store-failures.js';

interface JsonRpcAnswer {
  id?: unknown;
  error?: unknown;
  result?: { isError?: unknown };
}

/**
 * The SDK's answer to a 2026-07-28 request, with the HTTP status its handlers asked for when it is
 * a JSON-RPC error (a limit's 429), or the store's 503 when it is an error or a tool error and a
 * store failure was noted during the request (the answer the legacy leg gives). Any other answer,
 * and every stream, goes out as the SDK made it.
 */
export async function withErrorStatuses(response: Response): Promise<Response> {
  const asked = askedErrorStatus();
  const storeFailure = toolStoreFailure();
  if ((!asked && !storeFailure) || response.status !== 200 || !(response.headers.get('content-type') ?? '').startsWith('application/json')) return response;
  const answer = (await response.clone().json()) as JsonRpcAnswer;
  const headers = Object.fromEntries(response.headers);
  if (storeFailure && (answer.error !== undefined || answer.result?.isError === true)) {
    const error = { code: -32000, message: `Service Unavailable: ${storeFailure.message}` };
    return Response.json({ jsonrpc: '2.0', id: answer.id ?? null, error }, { status: 503, headers: { ...headers, 'Retry-After': '1' } });
  }
  if (asked && answer.error !== undefined) return new Response(response.body, { status: asked.status, headers: { ...headers, ...asked.headers } });
  return response;
}
