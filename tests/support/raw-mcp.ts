import net from 'node:net';
/** Wire-level MCP over HTTP for tests that must see statuses, headers and SSE frames as sent. */
export const PROTOCOL_VERSION = '2025-11-25';

export const POST_HEADERS = {
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
};

export interface SseFrame {
  id?: string;
  retry?: number;
  data: string;
}

export interface RpcAnswer {
  status: number;
  headers: Headers;
  /** JSON-RPC messages in the body (one for JSON, one per data frame for SSE). */
  messages: Array<Record<string, any>>;
  frames: SseFrame[];
}

export function parseSse(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const block of text.split(/\n\n/)) {
    if (block.trim() === '' || block.split('\n').every((line) => line.startsWith(':'))) continue;
    const frame: SseFrame = { data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') frame.id = value;
      else if (field === 'retry') frame.retry = Number(value);
      else if (field === 'data') data.push(value);
    }
    frame.data = data.join('\n');
    frames.push(frame);
  }
  return frames;
}

export async function readAnswer(response: Response): Promise<RpcAnswer> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    const frames = parseSse(text);
    return { status: response.status, headers: response.headers, frames, messages: frames.filter((f) => f.data !== '').map((f) => JSON.parse(f.data)) };
  }
  return { status: response.status, headers: response.headers, frames: [], messages: text === '' ? [] : [JSON.parse(text)] };
}

let nextId = 1;

export async function post(url: string, body: unknown, sessionId?: string, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...POST_HEADERS,
      ...(sessionId ? { 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': PROTOCOL_VERSION } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readAnswer(response);
}

export function request(method: string, params: Record<string, unknown> = {}): Record<string, unknown> {
  return { jsonrpc: '2.0', id: nextId++, method, params };
}

export async function initialize(url: string, capabilities: Record<string, unknown> = {}): Promise<string> {
  const sessionId = await initializeOnly(url, capabilities);
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId);
  return sessionId;
}

/** A session that no request has used yet (no `notifications/initialized`): no replica has read it from the store. */
export async function initializeOnly(url: string, capabilities: Record<string, unknown> = {}): Promise<string> {
  const answer = await post(url, request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities, clientInfo: { name: 'raw-test', version: '1' } }));
  const sessionId = answer.headers.get('mcp-session-id');
  if (answer.status !== 200 || !sessionId) throw new Error(`initialize failed: ${answer.status} ${JSON.stringify(answer.messages)}`);
  return sessionId;
}

export async function callTool(url: string, sessionId: string, name: string, args: Record<string, unknown> = {}): Promise<RpcAnswer> {
  return post(url, request('tools/call', { name, arguments: args }), sessionId);
}

/**
 * Waits until each replica answers the session with 404: Redis announces a delete or a flush to
 * the replicas' session read caches on its own connection, which may arrive a little after the
 * delete's own answer (a Redis descheduled between its writes, on a loaded machine).
 */
export async function untilForgotten(replicaUrls: string[], sessionId: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of replicaUrls) {
    while ((await callTool(url, sessionId, 'whoami')).status !== 404) {
      if (Date.now() > deadline) throw new Error(`${url} still serves session ${sessionId} ${timeoutMs} ms after it was removed`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** A 2026-07-28 request: no session, the protocol version and client identity in `_meta`. */
export function modernRequest(method: string, params: Record<string, unknown> = {}, capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-test', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
  return request(method, { ...params, _meta: { ...meta, ...(params._meta as object | undefined) } });
}

/** POSTs a 2026-07-28 request with the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name). */
export async function postModern(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const params = body.params as { name?: unknown; uri?: unknown } | undefined;
  const name = typeof params?.name === 'string' ? params.name : typeof params?.uri === 'string' ? params.uri : undefined;
  return post(url, body, undefined, {
    'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION,
    'Mcp-Method': String(body.method),
    ...(name !== undefined && ['tools/call', 'prompts/get', 'resources/read'].includes(String(body.method)) ? { 'Mcp-Name': name } : {}),
    ...headers,
  });
}

/** The parsed JSON of a tool result's first text block. */
export function toolJson(answer: RpcAnswer): any {
  const result = answer.messages.find((m) => 'result' in m)?.result;
  return JSON.parse(result.content[0].text);
}

/** An open GET stream: frames as they arrive, closable. */
export class SseStream {
  readonly frames: SseFrame[] = [];
  ended = false;
  private buffer = '';
  private readonly controller = new AbortController();
  status = 0;
  headers: Headers | undefined;

  static open(url: string, sessionId: string, lastEventId?: string): Promise<SseStream> {
    return SseStream.read(url, {
      headers: {
        Accept: 'text/event-stream',
        'Mcp-Session-Id': sessionId,
        'MCP-Protocol-Version': PROTOCOL_VERSION,
        ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}),
      },
    });
  }

  /** A 2026-07-28 `subscriptions/listen` request: its POST response, read as it streams. */
  static listen(url: string, body: Record<string, unknown>): Promise<SseStream> {
    return SseStream.read(url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION, 'Mcp-Method': String(body.method) },
      body: JSON.stringify(body),
    });
  }

  private static async read(url: string, init: RequestInit): Promise<SseStream> {
    const stream = new SseStream();
    const response = await fetch(url, { ...init, signal: stream.controller.signal });
    stream.status = response.status;
    stream.headers = response.headers;
    if (response.ok && response.body) void stream.pump(response.body);
    else {
      stream.ended = true;
      stream.buffer = await response.text();
    }
    return stream;
  }

  get errorBody(): string {
    return this.buffer;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        this.buffer += decoder.decode(chunk, { stream: true });
        const cut = this.buffer.lastIndexOf('\n\n');
        if (cut >= 0) {
          this.frames.push(...parseSse(this.buffer.slice(0, cut + 2)));
          this.buffer = this.buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  /** JSON-RPC messages received so far (priming and retry-only frames skipped). */
  get messages(): Array<Record<string, any>> {
    return this.frames.filter((f) => f.data !== '').map((f) => JSON.parse(f.data));
  }

  get lastEventId(): string | undefined {
    return this.frames.filter((f) => f.id !== undefined).at(-1)?.id;
  }

  async waitFor(predicate: (stream: SseStream) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`SSE condition not met; frames: ${JSON.stringify(this.frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.controller.abort();
  }
}

/** Sends bytes as they are, for requests fetch refuses to make; resolves with the raw reply once the server closes. */
export function rawHttp(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.write(payload);
  });
}

/** Starts a tools/call (with a progress token) and reads its SSE frames as they come; abort() leaves it. */
export function startToolCall(url: string, session: string, id: number, name: string, args: Record<string, unknown>) {
  const abort = new AbortController();
  const frames: SseFrame[] = [];
  let ended = false;
  const done = (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: { progressToken: `t${id}` } } }),
      signal: abort.signal,
    });
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += Buffer.from(chunk).toString();
        const cut = buffer.lastIndexOf('\n\n');
        if (cut >= 0) {
          frames.push(...parseSse(buffer.slice(0, cut + 2)));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  })();
  const messages = () => frames.filter((f) => f.data !== '').map((f) => JSON.parse(f.data) as Record<string, any>);
  return {
    abort,
    frames,
    messages,
    done,
    get ended() {
      return ended;
    },
  };
}
