import net from 'node:net';

/** One HTTP/1.x response head, as a client reads it off the wire. */
export interface ResponseHead {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

/**
 * A response being read: the head once it has arrived, then the body (de-chunked) piece by piece,
 * until the server ends it or the reader closes it.
 */
export interface ResponseReader {
  readonly head: Promise<ResponseHead>;
  /** Body pieces as they arrive; ends with the body (or when close() is called). */
  chunks(): AsyncIterable<Buffer>;
  close(): void;
  /** The connection ended before the body its framing announced (a reset, or a close mid-body). */
  readonly cut: boolean;
}

/** Thrown when the server closed the connection before sending a whole response head. */
export class NoResponseError extends Error {}

/** Parses a response head ("HTTP/1.1 200 OK\r\nName: value\r\n..."), without the blank line. */
export function parseHead(text: string): ResponseHead {
  const [statusLine, ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(match[1]), headers };
}

/**
 * Decodes a chunked body as bytes arrive. `push` returns the payload bytes decoded so far and
 * whether the terminating chunk was seen; malformed framing ends the body.
 */
export class ChunkedDecoder {
  private pending = Buffer.alloc(0);
  private remaining = 0;
  done = false;

  push(bytes: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, bytes]);
    const out: Buffer[] = [];
    while (!this.done) {
      if (this.remaining > 0) {
        if (this.pending.length === 0) break;
        const take = Math.min(this.remaining, this.pending.length);
        out.push(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        this.remaining -= take;
        continue;
      }
      // Between chunks: an optional CRLF ending the previous chunk, then "size[;ext]\r\n".
      if (this.pending.subarray(0, 2).toString() === '\r\n') this.pending = this.pending.subarray(2);
      const eol = this.pending.indexOf('\r\n');
      if (eol < 0) break;
      const size = Number.parseInt(this.pending.subarray(0, eol).toString().split(';')[0]!.trim(), 16);
      this.pending = this.pending.subarray(eol + 2);
      if (!Number.isFinite(size) || size <= 0) this.done = true;
      else this.remaining = size;
    }
    return out;
  }
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Sends `payload` (a whole request, exactly as given) on a new TCP connection and reads the
 * response. Interim 1xx responses are skipped. The body is framed by Content-Length, chunked
 * encoding or the end of the connection; `bodiless` (a HEAD request) means there is none.
 */
export function rawExchange(port: number, payload: Buffer, bodiless: boolean, host = '127.0.0.1'): ResponseReader {
  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  let buffered = Buffer.alloc(0);
  let head: ResponseHead | undefined;
  let framing: { kind: 'length'; left: number } | { kind: 'chunked'; decoder: ChunkedDecoder } | { kind: 'close' } | { kind: 'none' } = { kind: 'close' };
  const queue: Buffer[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  let resolveHead!: (head: ResponseHead) => void;
  let rejectHead!: (error: Error) => void;
  const headPromise = new Promise<ResponseHead>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  headPromise.catch(() => {});

  let cut = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    socket.destroy();
    wake?.();
  };
  const deliver = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    if (framing.kind === 'length') {
      const take = bytes.subarray(0, framing.left);
      framing.left -= take.length;
      queue.push(take);
      if (framing.left <= 0) finish();
    } else if (framing.kind === 'chunked') {
      queue.push(...framing.decoder.push(bytes));
      if (framing.decoder.done) finish();
    } else if (framing.kind === 'close') {
      queue.push(bytes);
    }
    wake?.();
  };

  socket.on('data', (chunk: Buffer) => {
    if (head) return deliver(chunk);
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf(HEAD_END);
      if (end < 0) return;
      const parsed = parseHead(buffered.subarray(0, end).toString('latin1'));
      buffered = buffered.subarray(end + 4);
      if (parsed.status >= 100 && parsed.status < 200) continue;
      head = parsed;
      const length = parsed.headers.get('content-length');
      if (bodiless || parsed.status === 204 || parsed.status === 304) framing = { kind: 'none' };
      else if (/chunked/i.test(parsed.headers.get('transfer-encoding') ?? '')) framing = { kind: 'chunked', decoder: new ChunkedDecoder() };
      else if (length !== undefined && /^\d+$/.test(length)) framing = { kind: 'length', left: Number(length) };
      resolveHead(parsed);
      if (framing.kind === 'none' || (framing.kind === 'length' && framing.left === 0)) finish();
      else deliver(buffered);
      return;
    }
  });
  let socketError: string | undefined;
  const closed = () => {
    if (!ended && head && (framing.kind === 'length' || framing.kind === 'chunked')) cut = true;
    if (!head)
      rejectHead(
        new NoResponseError(
          `the connection closed${socketError ? ` (${socketError})` : ''} after ${buffered.length} bytes, before a response head; ${socket.bytesWritten} of ${payload.length} request bytes written`,
        ),
      );
    finish();
  };
  socket.on('end', closed);
  socket.on('close', closed);
  socket.on('error', (error: NodeJS.ErrnoException) => {
    socketError = error.code ?? error.message;
  });
  socket.write(payload);

  return {
    head: headPromise,
    async *chunks() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    close: finish,
    get cut() {
      return cut;
    },
  };
}
