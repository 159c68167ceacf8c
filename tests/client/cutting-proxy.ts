import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxied {
  /** The JSON-RPC method of a POST (`GET`/`DELETE` otherwise). */
  method: string;
  /** The JSON-RPC id of a POSTed request. */
  id: unknown;
  /** Index of the target that answered. */
  target: number;
}

type Cut = { match: (method: string) => boolean; afterEvents: number };

/**
 * A per-request round-robin load balancer over a few replicas, as non-sticky as the real one,
 * that can cut a response stream on demand: it forwards the first events of the next matching
 * response and then destroys the client's socket, which is what a client sees when the replica
 * behind its stream dies. A target that refuses the connection is skipped, like a replica the load
 * balancer has taken out of rotation.
 */
export class CuttingProxy {
  readonly served: Proxied[] = [];
  private next = 0;
  private cuts: Cut[] = [];

  private constructor(
    private readonly server: http.Server,
    private readonly targets: number[],
  ) {}

  static async start(targetPorts: number[]): Promise<CuttingProxy> {
    const server = http.createServer();
    const proxy = new CuttingProxy(server, targetPorts);
    server.on('request', (req, res) => void proxy.forward(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/mcp`;
  }

  /**
   * Cuts the next response to a POST whose JSON-RPC method matches, after `afterEvents` SSE events;
   * with 0, the replica gets and runs the request but the client's connection is reset before the
   * response headers.
   */
  cutNext(match: (method: string) => boolean, afterEvents = 1): void {
    this.cuts.push({ match, afterEvents });
  }

  /** Requests whose method is `method`. */
  count(method: string): number {
    return this.served.filter((s) => s.method === method).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const rpc: { method?: unknown; id?: unknown } = req.method === 'POST' ? JSON.parse(body.toString() || '{}') : {};
    const method = req.method === 'POST' ? String(rpc.method ?? 'response') : req.method!;
    const cutIndex = this.cuts.findIndex((c) => c.match(method));
    const cut = cutIndex >= 0 ? this.cuts.splice(cutIndex, 1)[0] : undefined;
    const upstream = await this.connect(req, body);
    if (upstream === undefined) {
      res.socket?.destroy();
      return;
    }
    this.served.push({ method, id: rpc.id, target: upstream.target });
    const { response } = upstream;
    if (cut?.afterEvents === 0) {
      res.socket?.destroy();
      response.destroy();
      return;
    }
    res.writeHead(response.statusCode ?? 502, response.headers);
    let toForward = cut?.afterEvents ?? Infinity;
    response.on('data', (chunk: Buffer) => {
      if (toForward === Infinity) {
        res.write(chunk);
        return;
      }
      if (toForward === 0) return;
      // Forward exactly the first events, even when the replica wrote more of them in one chunk.
      let end = 0;
      while (toForward > 0 && chunk.indexOf('\n\n', end) >= 0) {
        end = chunk.indexOf('\n\n', end) + 2;
        toForward -= 1;
      }
      if (toForward > 0) {
        res.write(chunk);
        return;
      }
      res.write(chunk.subarray(0, end), () => {
        res.socket?.destroy();
        response.destroy();
      });
    });
    response.on('end', () => res.end());
    // The replica died mid-response: the client's connection breaks the same way.
    response.on('close', () => {
      if (!response.complete) res.socket?.destroy();
    });
    response.on('error', () => res.socket?.destroy());
    res.on('close', () => response.destroy());
  }

  private async connect(req: http.IncomingMessage, body: Buffer): Promise<{ response: http.IncomingMessage; target: number } | undefined> {
    for (let tries = 0; tries < this.targets.length; tries++) {
      const target = this.next++ % this.targets.length;
      try {
        const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
          const upstream = http.request(
            { host: '127.0.0.1', port: this.targets[target], path: req.url, method: req.method, headers: req.headers, agent: false },
            resolve,
          );
          upstream.on('error', reject);
          upstream.end(body);
        });
        return { response, target };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') return undefined;
      }
    }
    return undefined;
  }
}
