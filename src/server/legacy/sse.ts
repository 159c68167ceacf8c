import type { ServerResponse } from 'node:http';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // Tells nginx-style proxies not to buffer the stream.
  'X-Accel-Buffering': 'no',
} as const;

/** Writes Server-Sent Events to one HTTP response, with keep-alive comments while idle. */
export class SseWriter {
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    keepAliveMs: number,
    /** Bytes written but not yet taken by the client past which the stream is dropped (a client that stopped reading). */
    private readonly maxUnsentBytes = Infinity,
  ) {
    if (keepAliveMs > 0) {
      this.keepAlive = setInterval(() => this.raw(': keep-alive\n\n'), keepAliveMs);
      this.keepAlive.unref();
    }
    res.once('close', () => this.stopKeepAlive());
  }

  static open(res: ServerResponse, headers: Record<string, string>, keepAliveMs: number, maxUnsentBytes = Infinity): SseWriter {
    res.writeHead(200, { ...SSE_HEADERS, ...headers });
    res.flushHeaders();
    return new SseWriter(res, keepAliveMs, maxUnsentBytes);
  }

  get writable(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  event(data: unknown, id?: string): void {
    let frame = 'event: message\n';
    if (id !== undefined) frame += `id: ${id}\n`;
    frame += `data: ${JSON.stringify(data)}\n\n`;
    this.raw(frame);
  }

  /** An event with an id and empty data: gives the client a Last-Event-ID before anything else is sent. */
  priming(id: string, retryMs: number | undefined): void {
    this.raw(`id: ${id}\n${retryMs === undefined ? '' : `retry: ${retryMs}\n`}data: \n\n`);
  }

  retry(retryMs: number): void {
    this.raw(`retry: ${retryMs}\n\n`);
  }

  end(): void {
    this.stopKeepAlive();
    if (this.writable) this.res.end();
  }

  private raw(text: string): void {
    if (!this.writable) return;
    this.res.write(text);
    // Every event is in the stream's log: the client resumes from its Last-Event-ID, so dropping
    // what it has not read loses nothing, while keeping it would grow this replica without bound.
    if (this.res.writableLength > this.maxUnsentBytes) {
      this.stopKeepAlive();
      this.res.destroy();
    }
  }

  private stopKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
