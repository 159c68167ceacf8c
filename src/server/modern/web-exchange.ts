import type { IncomingMessage } from 'node:http';

/** What an answer is written to: a node response, or a listen stream's wrapper around one. */
export interface AnswerTarget {
  readonly destroyed: boolean;
  writeHead(status: number, headers?: Record<string, string>): unknown;
  write(chunk: Uint8Array): unknown;
  end(chunk?: Uint8Array): unknown;
  on(event: 'drain', listener: () => void): unknown;
}

/** Dropped from the web request: its body is not carried (the SDK is handed the parsed body). */
const BODY_FRAMING = new Set(['transfer-encoding', 'content-encoding']);

/**
 * The web Request the SDK's handler takes, for a node request whose body was already read and
 * parsed: method, URL and headers (as node merged them), the signal; no body, since the handler
 * is given the parsed one and reads nothing from the request. The headers go in as a plain record
 * (a Headers object built header by header costs twice as much), unless one repeats.
 */
export function webRequestOf(req: IncomingMessage, signal: AbortSignal): Request {
  const record: Record<string, string> = {};
  let repeats: [string, string[]][] | undefined;
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined || name.startsWith(':') || BODY_FRAMING.has(name)) continue;
    if (Array.isArray(value)) (repeats ??= []).push([name, value]);
    else record[name] = value;
  }
  let headers: Record<string, string> | Headers = record;
  if (repeats) {
    headers = new Headers(record);
    for (const [name, values] of repeats) for (const value of values) headers.append(name, value);
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, signal });
}

const isEventStream = (contentType: string | undefined): boolean => contentType?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream';

/**
 * Writes the SDK's Response. A JSON answer is read whole and written with its length, in one
 * piece; an event stream is relayed frame by frame as it comes, waiting for the client to drain,
 * until it ends or `signal` aborts (the client went away). Resolves with whether it was written
 * whole to a client still there.
 */
export async function writeWebResponse(target: AnswerTarget, response: Response, signal: AbortSignal): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  if (response.body === null) {
    target.writeHead(response.status, headers);
    target.end();
    return !signal.aborted;
  }
  if (!isEventStream(headers['content-type'])) {
    const body = new Uint8Array(await response.arrayBuffer());
    headers['content-length'] = String(body.byteLength);
    target.writeHead(response.status, headers);
    target.end(body);
    return !signal.aborted;
  }
  target.writeHead(response.status, headers);
  let drained: (() => void) | undefined;
  target.on('drain', () => drained?.());
  const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  try {
    for await (const chunk of response.body) {
      if (signal.aborted) break;
      if (target.write(chunk) === false) await Promise.race([new Promise<void>((resolve) => (drained = resolve)), aborted]);
    }
  } catch {
    // The stream failed or was cancelled: what was written stands, the answer ends here.
  }
  target.end();
  return !signal.aborted;
}
