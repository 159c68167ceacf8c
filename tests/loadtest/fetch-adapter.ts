import http from 'node:http';
import type { AdapterResponse, HttpAdapter, RequestParams } from '../../loadtest/lib/mcp.js';
import type { MemoryMetrics } from './memory-metrics.js';

/**
 * The flows' HTTP adapter on Node's HTTP client, with k6's semantics: the promise resolves when the
 * whole response has arrived (a GET stream: when the server ends it), status 0 and `error` when no
 * answer came or the timeout passed; each request is recorded as http_req_duration and
 * http_req_failed (2xx/3xx expected, and 404 where the flow expects one). With `reuse: false`
 * every request has a connection of its own, like k6's noConnectionReuse.
 */
export function nodeHttp(metrics: MemoryMetrics, options: { reuse?: boolean } = {}): HttpAdapter & { close(): void } {
  const agent = options.reuse ? new http.Agent({ keepAlive: true, maxSockets: 64 }) : false;
  return {
    request(method: string, url: string, body: string | null, params: RequestParams): Promise<AdapterResponse> {
      const started = performance.now();
      return new Promise<AdapterResponse>((resolve) => {
        let settled = false;
        const finish = (response: AdapterResponse) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const expected = (response.status >= 200 && response.status < 400) || (params.expect404 === true && response.status === 404);
          metrics.request(params.tags, performance.now() - started, !expected);
          resolve(response);
        };
        const request = http.request(url, { method, headers: params.headers, agent }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
            }
            finish({ status: response.statusCode ?? 0, headers, body: text, error: '' });
          });
          response.on('error', (error) => finish({ status: 0, headers: {}, body: '', error: String(error) }));
        });
        const timer = setTimeout(() => {
          request.destroy();
          finish({ status: 0, headers: {}, body: '', error: 'request timeout' });
        }, params.timeoutMs ?? 60_000);
        request.on('error', (error) => finish({ status: 0, headers: {}, body: '', error: String(error) }));
        request.end(body ?? undefined);
      });
    },
    delay(ms: number): Promise<void> {
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
    close() {
      if (agent) agent.destroy();
    },
  };
}
