// MCP over HTTP as the benchmark's clients speak it, on node:http with keep-alive agents: both
// eras' request bodies and headers, one-shot POSTs, and long-lived SSE streams (legacy GET
// streams, modern subscriptions/listen) read frame by frame.
import http from 'node:http';

export const LEGACY_VERSION = '2025-11-25';
export const MODERN_VERSION = '2026-07-28';
const ACCEPT = 'application/json, text/event-stream';
const CLIENT_INFO = { name: 'mcp-fleet-bench', version: '1' };

/** A keep-alive agent for `sockets` concurrent requests. */
export function keepAliveAgent(sockets) {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** POSTs `body` (an object) and resolves with { status, headers, text } once the whole answer has arrived. */
export function postJson(url, body, headers, agent, timeoutMs = 30_000) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', accept: ACCEPT, 'content-length': Buffer.byteLength(payload), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The JSON-RPC messages of an answer body, JSON or SSE. */
export function answerMessages(text) {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return [JSON.parse(trimmed)].flat();
  return sseFrames(text)
    .filter((f) => f.data !== '')
    .map((f) => JSON.parse(f.data));
}

/** Splits complete SSE blocks into frames { id, data }; comment-only blocks are dropped. */
export function sseFrames(text) {
  const frames = [];
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    const data = [];
    let id;
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      fields++;
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (fields > 0) frames.push({ id, data: data.join('\n') });
  }
  return frames;
}

let nextId = 1;
export const rpc = (method, params = {}) => ({ jsonrpc: '2.0', id: nextId++, method, params });

/** A 2026-07-28 request: no session; version, client and capabilities in `_meta`. */
export function modernRpc(method, params = {}) {
  return rpc(method, {
    ...params,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
      'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  });
}

/** The standard headers of a 2026-07-28 POST (MCP-Protocol-Version, Mcp-Method, Mcp-Name). */
export function modernHeaders(body) {
  const name = body.params?.name ?? body.params?.uri;
  return {
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': body.method,
    ...(typeof name === 'string' && ['tools/call', 'prompts/get', 'resources/read'].includes(body.method) ? { 'mcp-name': name } : {}),
  };
}

/** A legacy session's headers after initialize. */
export const sessionHeaders = (session) => ({ 'mcp-session-id': session.id, 'mcp-protocol-version': session.protocolVersion });

/** initialize + notifications/initialized; resolves with { id, protocolVersion } (the version the server chose). */
export async function initializeSession(url, agent) {
  const answer = await postJson(url, rpc('initialize', { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: CLIENT_INFO }), {}, agent);
  const id = answer.headers['mcp-session-id'];
  if (answer.status !== 200 || typeof id !== 'string') throw new Error(`initialize on ${url}: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
  const result = answerMessages(answer.text).find((m) => 'result' in m)?.result;
  const session = { id, protocolVersion: result?.protocolVersion ?? LEGACY_VERSION };
  const initialized = await postJson(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionHeaders(session), agent);
  if (initialized.status !== 202 && initialized.status !== 200) throw new Error(`notifications/initialized on ${url}: HTTP ${initialized.status}`);
  return session;
}

/** One tools/call in either era (`session` for legacy, undefined for modern). */
export function callTool(url, session, name, args, agent, timeoutMs) {
  if (session) return postJson(url, rpc('tools/call', { name, arguments: args }), sessionHeaders(session), agent, timeoutMs);
  const body = modernRpc('tools/call', { name, arguments: args });
  return postJson(url, body, modernHeaders(body), agent, timeoutMs);
}

/**
 * A long-lived SSE stream: a legacy GET (`session`) or a modern subscriptions/listen POST
 * (`listen`: the resource URIs). `onMessage(message, receivedAt)` sees each JSON-RPC message;
 * resolves once the response headers have arrived, with { status, close() }.
 */
export function openStream(url, { session, listen, agent, onMessage }) {
  const body = listen ? JSON.stringify(modernRpc('subscriptions/listen', { notifications: { resourceSubscriptions: listen } })) : undefined;
  const headers = session
    ? { accept: 'text/event-stream', ...sessionHeaders(session) }
    : { accept: ACCEPT, 'content-type': 'application/json', ...modernHeaders(JSON.parse(body)) };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: session ? 'GET' : 'POST', agent, headers }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = performance.now();
        buffer += chunk.replace(/\r\n?/g, '\n');
        const end = buffer.lastIndexOf('\n\n');
        if (end < 0) return;
        const complete = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        for (const frame of sseFrames(complete)) {
          if (frame.data !== '') onMessage(JSON.parse(frame.data), at);
        }
      });
      res.on('error', () => {});
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end(body);
  });
}
