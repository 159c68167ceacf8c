// MCP 2026-07-28 over the flows' HTTP adapter (see mcp.js): no initialize and no session; every
// request carries the protocol version, client identity and capabilities in `_meta` and names
// itself in the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers.

import { Answer, REPLICA_HEADER } from './mcp.js';
import { parseSse, sseMessages } from './sse.js';

export const MODERN_PROTOCOL_VERSION = '2026-07-28';
export const SUBSCRIPTION_ID_META = 'io.modelcontextprotocol/subscriptionId';
export const ACKNOWLEDGED = 'notifications/subscriptions/acknowledged';
export const RESOURCE_UPDATED = 'notifications/resources/updated';
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** The methods whose Mcp-Name header carries params.name (tools, prompts), params.uri (resources) or params.taskId (tasks). */
const NAMED = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

function merge(a, b) {
  return Object.assign({}, a || {}, b || {});
}

/** What a subscriptions/listen stream delivered before the server ended it. */
export class ListenAnswer {
  constructor(response, subscriptionId) {
    this.status = response.status;
    this.error = response.error || '';
    this.replica = response.headers[REPLICA_HEADER];
    this.subscriptionId = subscriptionId;
    this.messages = [];
    if (response.status === 200) {
      try {
        this.messages = sseMessages(parseSse(response.body || ''));
      } catch (error) {
        this.error = 'unreadable event: ' + error;
      }
    }
  }

  get ok() {
    return this.status === 200 && this.error === '';
  }

  /** The acknowledgement, when it is the first message and carries this stream's subscription id. */
  get acknowledgement() {
    const first = this.messages[0];
    if (!first || first.method !== ACKNOWLEDGED || !this.stamped(first)) return undefined;
    return first;
  }

  /** Whether a message carries this stream's subscription id in `_meta`. */
  stamped(message) {
    const meta = message && message.params && message.params._meta;
    return meta !== undefined && meta !== null && meta[SUBSCRIPTION_ID_META] === this.subscriptionId;
  }

  /**
   * resources/updated notifications by URI (stamped with this subscription, for a requested URI);
   * `unexpected` counts every other message after the acknowledgement, bar the listen request's
   * own closing result.
   */
  updatesByUri(requested) {
    const counts = {};
    for (const uri of requested) counts[uri] = 0;
    let unexpected = 0;
    for (let i = this.acknowledgement ? 1 : 0; i < this.messages.length; i++) {
      const message = this.messages[i];
      if (message.id === this.subscriptionId && message.result !== undefined) continue;
      const uri = message.params && message.params.uri;
      if (message.method === RESOURCE_UPDATED && this.stamped(message) && Object.prototype.hasOwnProperty.call(counts, uri)) counts[uri]++;
      else unexpected++;
    }
    return { counts: counts, unexpected: unexpected };
  }
}

/**
 * A 2026-07-28 client over the adapter; it declares the sampling capability (for MRTR), and
 * `capabilities` may replace that (the tasks flow declares the tasks extension).
 */
export class ModernClient {
  constructor(ctx, tags, capabilities) {
    this.ctx = ctx;
    this.url = ctx.config.url;
    this.tags = tags || {};
    this.nextRequestId = 1;
    this.clientInfo = { name: 'mcp-fleet-loadtest', version: '1' };
    this.capabilities = capabilities || { sampling: {} };
  }

  /** The JSON-RPC body of a request, with the per-request `_meta` every 2026-07-28 request carries. */
  body(id, method, params) {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
      'io.modelcontextprotocol/clientInfo': this.clientInfo,
      'io.modelcontextprotocol/clientCapabilities': this.capabilities,
    };
    return { jsonrpc: '2.0', id: id, method: method, params: merge(params, { _meta: meta }) };
  }

  headers(method, params) {
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION,
      'Mcp-Method': method,
    };
    const field = NAMED[method];
    if (field && params && typeof params[field] === 'string') headers['Mcp-Name'] = params[field];
    return headers;
  }

  send(id, method, params, tags, adapterParams) {
    const body = JSON.stringify(this.body(id, method, params));
    return this.ctx.http.request('POST', this.url, body, merge({ headers: this.headers(method, params), tags: merge(this.tags, tags) }, adapterParams));
  }

  async request(method, params, tags) {
    const id = this.nextRequestId++;
    return new Answer(await this.send(id, method, params || {}, merge({ op: 'call' }, tags)), id);
  }

  /** tools/call; `extra` adds request params beside name and arguments (inputResponses, requestState). */
  callTool(name, args, extra, tags) {
    return this.request('tools/call', merge({ name: name, arguments: args || {} }, extra), merge({ tool: name }, tags));
  }

  /**
   * subscriptions/listen for resources/updated of `uris`. Under k6 the answer comes when the server
   * ends the stream (LISTEN_STREAM_MAX_MS, a drain), or at K6_MCP_STREAM_TIMEOUT_MS.
   */
  async listen(uris, tags) {
    const id = this.nextRequestId++;
    const params = { notifications: { resourceSubscriptions: uris } };
    const response = await this.send(id, 'subscriptions/listen', params, merge({ op: 'listen' }, tags), { timeoutMs: this.ctx.config.streamTimeoutMs });
    return new ListenAnswer(response, id);
  }
}
