import { parseSse } from '../support/raw-mcp.js';
import type { Framing, WireRequest } from './case.js';
import { NoResponseError, rawExchange, type ResponseHead, type ResponseReader } from './raw-http.js';

/** The longest any answer may take: its head, and its whole body unless it is a stream that stays open. */
export const ANSWER_LIMIT_MS = 15_000;
/** How long an open stream is read after its head (to learn its event ids) before the test closes it. */
const STREAM_PEEK_MS = 150;

export interface Endpoint {
  host: string;
  port: number;
}

export interface Outcome {
  via: 'fetch' | 'socket';
  /** Undefined when no response head came (see `failure`). */
  status: number | undefined;
  headers: Map<string, string>;
  body: string;
  eventStream: boolean;
  /** Why the test closed the response before its end: a stream that stays open, or a server-to-client request waiting for its answer. */
  closedByTest: 'open-stream' | 'awaiting-client' | undefined;
  /** What did not arrive within ANSWER_LIMIT_MS. */
  timedOut: 'head' | 'body' | undefined;
  /** The connection failed or closed without a response head. */
  failure: string | undefined;
  /** The body ended before its framing said (not a stream the test closed). */
  cut: boolean;
  elapsedMs: number;
  /** JSON-RPC messages of the body (the JSON body, or each SSE data frame). */
  messages: unknown[];
  /** The body claimed JSON but did not parse. */
  unparsable: boolean;
  frameIds: string[];
}

/** Headers fetch drops, rewrites or refuses: a case that sets them is written by hand. */
const FETCH_MANAGED = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'expect', 'upgrade', 'keep-alive', 'te', 'trailer']);

export function needsSocket(request: WireRequest): boolean {
  const names = request.headers.map(([name]) => name.toLowerCase());
  return names.some((name) => FETCH_MANAGED.has(name)) || new Set(names).size !== names.length;
}

/** Whether fetch refused to send the request at all (rather than the server failing it). */
function refusedByFetch(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  if (error.message !== 'fetch failed') return true;
  const code = (error.cause as { code?: string } | undefined)?.code;
  return code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED';
}

export interface SocketOptions {
  httpVersion: '1.1' | '1.0';
  omitHost: boolean;
  framing: Framing;
}

const chunked = (body: Buffer, sizeLine: string): Buffer =>
  Buffer.concat([Buffer.from(`${sizeLine}\r\n`), body, Buffer.from(body.length > 0 ? '\r\n0\r\n\r\n' : '\r\n')]);

function framed(body: Buffer, framing: Framing): { headers: string[]; bytes: Buffer } {
  switch (framing) {
    case 'length':
      return { headers: [`Content-Length: ${body.length}`], bytes: body };
    case 'none':
      return { headers: [], bytes: body };
    case 'length-short':
      return { headers: [`Content-Length: ${Math.floor(body.length / 2)}`], bytes: body };
    case 'chunked':
      return { headers: ['Transfer-Encoding: chunked'], bytes: chunked(body, body.length.toString(16)) };
    case 'chunked-bad':
      return { headers: ['Transfer-Encoding: chunked'], bytes: chunked(body, 'zz') };
    case 'both':
      return { headers: [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'], bytes: chunked(body, body.length.toString(16)) };
  }
}

/** A request written by hand: the case's headers as given (repeated, odd bytes and all). */
export function socketPayload(endpoint: Endpoint, request: WireRequest, options: SocketOptions): Buffer {
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const lines = [`${request.method} ${request.path} HTTP/${options.httpVersion}`];
  if (!options.omitHost && !names.has('host')) lines.push(`Host: ${endpoint.host}:${endpoint.port}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const body = request.body === undefined ? { headers: [], bytes: Buffer.alloc(0) } : framed(request.body, options.framing);
  lines.push(...body.headers);
  if (!names.has('connection')) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body.bytes]);
}

/** A fetch Response read through the same interface as a hand-written exchange. */
async function fetchReader(endpoint: Endpoint, request: WireRequest): Promise<ResponseReader> {
  const controller = new AbortController();
  const response = await fetch(`http://${endpoint.host}:${endpoint.port}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: 'manual',
    signal: controller.signal,
  });
  const headers = new Map<string, string>();
  response.headers.forEach((value, name) => headers.set(name, value));
  const body = response.body;
  let cut = false;
  return {
    head: Promise.resolve({ status: response.status, headers }),
    async *chunks() {
      if (!body) return;
      try {
        for await (const chunk of body) yield Buffer.from(chunk);
      } catch {
        // Aborted by close(), or the connection ended mid-body.
        cut = !controller.signal.aborted;
      }
    },
    close: () => controller.abort(),
    get cut() {
      return cut;
    },
  };
}

const sleep = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

const isListen = (request: WireRequest): boolean => {
  if (request.method !== 'POST' || request.body === undefined) return false;
  try {
    return (JSON.parse(request.body.toString('utf8')) as { method?: unknown }).method === 'subscriptions/listen';
  } catch {
    return false;
  }
};

function messagesOf(head: ResponseHead, body: string, eventStream: boolean): { messages: unknown[]; frameIds: string[]; unparsable: boolean } {
  if (eventStream) {
    const complete = body.slice(0, body.lastIndexOf('\n\n') + 2);
    const frames = parseSse(complete);
    const messages: unknown[] = [];
    let unparsable = false;
    for (const frame of frames) {
      if (frame.data === '') continue;
      try {
        messages.push(JSON.parse(frame.data));
      } catch {
        unparsable = true;
      }
    }
    return { messages, frameIds: frames.flatMap((f) => (f.id ? [f.id] : [])), unparsable };
  }
  if (!(head.headers.get('content-type') ?? '').includes('json') || body === '') return { messages: [], frameIds: [], unparsable: false };
  try {
    return { messages: [JSON.parse(body)], frameIds: [], unparsable: false };
  } catch {
    return { messages: [], frameIds: [], unparsable: true };
  }
}

/**
 * Sends one request and reads its answer within `limitMs`. A stream that may stay open (a
 * 200 event stream answering GET or subscriptions/listen) is read briefly and closed; a POST's
 * event stream is read to its end, or until it carries a request to the client, which this
 * client will not answer.
 */
export async function exchange(endpoint: Endpoint, request: WireRequest, socket: SocketOptions | undefined, limitMs = ANSWER_LIMIT_MS): Promise<Outcome> {
  const started = performance.now();
  let via: Outcome['via'] = socket ? 'socket' : 'fetch';
  const outcome = (fields: Partial<Outcome>): Outcome => ({
    via,
    status: undefined,
    headers: new Map(),
    body: '',
    eventStream: false,
    closedByTest: undefined,
    timedOut: undefined,
    failure: undefined,
    cut: false,
    elapsedMs: performance.now() - started,
    messages: [],
    unparsable: false,
    frameIds: [],
    ...fields,
  });
  const bySocket = (options: SocketOptions) => rawExchange(endpoint.port, socketPayload(endpoint, request, options), request.method === 'HEAD', endpoint.host);

  let reader: ResponseReader;
  let head: ResponseHead;
  const deadline = sleep(limitMs);
  try {
    const opening = socket
      ? Promise.resolve(bySocket(socket))
      : fetchReader(endpoint, request).catch((error: unknown) => {
          if (!refusedByFetch(error)) throw error;
          via = 'socket';
          return bySocket({ httpVersion: '1.1', omitHost: false, framing: 'length' });
        });
    const opened = await Promise.race([opening.then(async (r) => ({ reader: r, head: await r.head })), deadline]);
    if (opened === 'timeout') {
      void opening.then(
        (r) => r.close(),
        () => {},
      );
      return outcome({ timedOut: 'head' });
    }
    ({ reader, head } = opened);
  } catch (error) {
    const message =
      error instanceof NoResponseError
        ? error.message
        : `${(error as Error).message}${(error as Error).cause ? ` (${String((error as { cause: unknown }).cause)})` : ''}`;
    return outcome({ failure: message });
  }

  const eventStream = (head.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const staysOpen = eventStream && head.status === 200 && (request.method === 'GET' || isListen(request));
  const headAt = performance.now();
  const decoder = new TextDecoder();
  let body = '';
  let closedByTest: Outcome['closedByTest'];
  const reading = (async () => {
    for await (const chunk of reader.chunks()) {
      body += decoder.decode(chunk, { stream: true });
      if (!eventStream) continue;
      if (staysOpen && (body.includes('\n\n') || performance.now() - headAt > STREAM_PEEK_MS)) {
        closedByTest = 'open-stream';
        break;
      }
      if (!staysOpen && messagesOf(head, body, true).messages.some(isServerRequest)) {
        closedByTest = 'awaiting-client';
        break;
      }
    }
  })();
  const limit = staysOpen ? sleep(STREAM_PEEK_MS).then(() => ((closedByTest = 'open-stream'), 'timeout' as const)) : deadline;
  const read = await Promise.race([reading.then(() => 'done' as const), limit]);
  reader.close();
  await reading.catch(() => {});
  const timedOut = read === 'timeout' && !staysOpen ? 'body' : undefined;
  const elapsedMs = (staysOpen ? headAt : performance.now()) - started;
  const cut = reader.cut && closedByTest === undefined;
  return outcome({
    status: head.status,
    headers: head.headers,
    body,
    eventStream,
    closedByTest,
    timedOut,
    cut,
    elapsedMs,
    ...messagesOf(head, body, eventStream),
  });
}

function isServerRequest(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as { method?: unknown; id?: unknown };
  return typeof m.method === 'string' && m.id !== undefined && m.id !== null;
}
