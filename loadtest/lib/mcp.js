// MCP over Streamable HTTP on a tiny injected HTTP adapter, so the same client runs under k6
// (k6-adapter.js, on k6/http) and under Node (tests/loadtest/fetch-adapter.ts).
//
// An adapter is { request(method, url, body, params), delay(ms) }:
//   request → Promise<{ status, headers, body, error }>, headers with lower-case names, status 0
//   and `error` set when no answer came; params = { headers, tags, timeoutMs, expect404 }.
// A context is { http, metrics, config, log }, metrics being { add(name, value, tags), check(name, ok, tags) }.

import { lastEventId, parseSse, sseMessages } from './sse.js';

export const PROTOCOL_VERSION = '2025-11-25';
export const REPLICA_HEADER = 'x-mcp-replica';
export const SESSION_HEADER = 'mcp-session-id';

function merge(a, b) {
  return Object.assign({}, a || {}, b || {});
}

/** The JSON-RPC messages of a POST answer, JSON or SSE. */
export function answerMessages(response) {
  const type = String(response.headers['content-type'] || '');
  if (response.body === undefined || response.body === null || response.body === '') return { messages: [], frames: [] };
  if (type.indexOf('text/event-stream') === 0) {
    const frames = parseSse(response.body);
    return { messages: sseMessages(frames), frames: frames };
  }
  if (type.indexOf('application/json') === 0) {
    const parsed = JSON.parse(response.body);
    return { messages: Array.isArray(parsed) ? parsed : [parsed], frames: [] };
  }
  return { messages: [], frames: [] };
}

/** What one MCP request came back with. */
export class Answer {
  constructor(response, requestId) {
    this.status = response.status;
    this.error = response.error || '';
    this.replica = response.headers[REPLICA_HEADER];
    this.headers = response.headers;
    let parsed = { messages: [], frames: [] };
    try {
      parsed = answerMessages(response);
    } catch (error) {
      this.error = 'unreadable body: ' + error;
    }
    this.messages = parsed.messages;
    this.frames = parsed.frames;
    const reply = this.messages.filter((m) => m.id === requestId && (m.result !== undefined || m.error !== undefined))[0];
    this.result = reply ? reply.result : undefined;
    this.rpcError = reply ? reply.error : undefined;
  }

  /** A JSON-RPC result came back (tools report their own failures inside it as isError). */
  get ok() {
    return this.status === 200 && this.result !== undefined && !(this.result && this.result.isError);
  }

  /** The session is unknown to the server (expired, deleted, or lost): the client must initialize again. */
  get sessionNotFound() {
    return this.status === 404;
  }
}

/** What one GET stream delivered before the server ended it. */
export class StreamAnswer {
  constructor(response) {
    this.status = response.status;
    this.error = response.error || '';
    this.replica = response.headers[REPLICA_HEADER];
    this.frames = response.status === 200 ? parseSse(response.body || '') : [];
    this.messages = [];
    try {
      this.messages = sseMessages(this.frames);
    } catch (error) {
      this.error = 'unreadable event: ' + error;
    }
    this.lastEventId = lastEventId(this.frames);
  }

  get ok() {
    return this.status === 200 && this.error === '';
  }
}

/** One MCP session over the adapter; `handle()` gives a second, independent handle on it. */
export class McpSession {
  constructor(ctx, tags) {
    this.ctx = ctx;
    this.url = ctx.config.url;
    this.tags = tags || {};
    this.id = undefined;
    this.protocolVersion = PROTOCOL_VERSION;
    this.nextRequestId = 1;
  }

  headers() {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    if (this.id !== undefined) {
      headers['Mcp-Session-Id'] = this.id;
      headers['MCP-Protocol-Version'] = this.protocolVersion;
    }
    return headers;
  }

  /** `params` adds adapter parameters (timeoutMs, expect404) to the request's headers and tags. */
  send(method, body, tags, params) {
    return this.ctx.http.request(method, this.url, body, merge({ headers: this.headers(), tags: merge(this.tags, tags) }, params));
  }

  /** initialize and notifications/initialized; afterwards the session id is set. */
  async initialize(tags) {
    this.id = undefined;
    const id = this.nextRequestId++;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: id,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-fleet-loadtest', version: '1' } },
    });
    const answer = new Answer(await this.send('POST', body, merge({ op: 'initialize' }, tags)), id);
    const sessionId = answer.headers[SESSION_HEADER];
    if (!answer.ok || !sessionId) return answer;
    this.id = sessionId;
    if (answer.result.protocolVersion) this.protocolVersion = answer.result.protocolVersion;
    const initialized = await this.send('POST', JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), merge({ op: 'notification' }, tags));
    if (initialized.status !== 202 && initialized.status !== 200) {
      answer.error = 'notifications/initialized answered ' + initialized.status;
      this.id = undefined;
    }
    return answer;
  }

  async request(method, params, tags, options) {
    const id = this.nextRequestId++;
    const body = JSON.stringify({ jsonrpc: '2.0', id: id, method: method, params: params || {} });
    const adapterParams = options && options.expect404 ? { expect404: true } : undefined;
    return new Answer(await this.send('POST', body, merge({ op: 'call' }, tags), adapterParams), id);
  }

  callTool(name, args, tags, options) {
    return this.request('tools/call', { name: name, arguments: args || {} }, merge({ tool: name }, tags), options);
  }

  /**
   * A tool call that follows the spec's recovery: on 404 (session unknown) initialize a new session
   * and send the call again, once. Resolves with { answer, notFound, recovered }.
   */
  async callToolRecovering(name, args, tags) {
    const first = await this.callTool(name, args, tags, { expect404: true });
    if (!first.sessionNotFound) return { answer: first, notFound: false, recovered: false };
    const init = await this.initialize(tags);
    if (!init.ok) return { answer: init, notFound: true, recovered: false };
    const retried = await this.callTool(name, args, tags);
    return { answer: retried, notFound: true, recovered: retried.ok };
  }

  /** DELETE: ends the session. Resolves with the HTTP status. */
  async remove(tags, options) {
    if (this.id === undefined) return 0;
    const adapterParams = options && options.expect404 ? { expect404: true } : undefined;
    const response = await this.send('DELETE', null, merge({ op: 'delete' }, tags), adapterParams);
    return response.status;
  }

  /**
   * The standalone GET stream, from `lastEventId` when given (resumption). Under k6 the answer comes
   * when the server ends the stream: after its poll window (GET_STREAM_MAX_MS), a takeover by a
   * newer GET stream of the session, a drain or the session's end.
   */
  async getStream(lastEventIdValue, tags) {
    const headers = { Accept: 'text/event-stream', 'Mcp-Session-Id': this.id, 'MCP-Protocol-Version': this.protocolVersion };
    if (lastEventIdValue) headers['Last-Event-ID'] = lastEventIdValue;
    const response = await this.ctx.http.request('GET', this.url, null, {
      headers: headers,
      tags: merge(this.tags, merge({ op: 'stream' }, tags)),
      timeoutMs: this.ctx.config.streamTimeoutMs,
    });
    return new StreamAnswer(response);
  }

  /** A second handle on the same session, as another client holding its id would have. */
  handle() {
    const other = new McpSession(this.ctx, this.tags);
    other.id = this.id;
    other.protocolVersion = this.protocolVersion;
    other.nextRequestId = 1000000;
    return other;
  }
}
