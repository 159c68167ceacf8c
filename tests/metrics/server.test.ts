import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusObserver, startMetricsServer, type MetricsServer } from '../../src/metrics/index.js';
import { parseExposition, valueOf } from './exposition.js';

interface Reply {
  status: number;
  contentType: string | undefined;
  body: string;
}

function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the registry on GET /metrics in the Prometheus text format', async () => {
    const observer = new PrometheusObserver();
    observer.sessionCreated();
    observer.readiness(true);
    server = await startMetricsServer(observer.registry, 0, '127.0.0.1');
    expect(server.port).toBeGreaterThan(0);

    const reply = await get(server.port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseExposition(reply.body);
    expect(valueOf(samples, 'mcp_fleet_sessions_created_total')).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_ready')).toBe(1);

    observer.sessionCreated();
    const again = parseExposition((await get(server.port, '/metrics?scrape=2')).body);
    expect(valueOf(again, 'mcp_fleet_sessions_created_total')).toBe(2);
  });

  it('answers 404 to anything else', async () => {
    server = await startMetricsServer(new PrometheusObserver({ defaultMetrics: false }).registry, 0, '127.0.0.1');
    for (const [path, method] of [
      ['/', 'GET'],
      ['/mcp', 'POST'],
      ['/metrics', 'POST'],
      ['/metrics/', 'GET'],
      ['/metricsx', 'GET'],
    ] as const) {
      const reply = await get(server.port, path, method);
      expect(reply.status, `${method} ${path}`).toBe(404);
    }
  });

  it('closes, even with a keep-alive connection open, and frees the port', async () => {
    const registry = new PrometheusObserver({ defaultMetrics: false }).registry;
    const first = await startMetricsServer(registry, 0, '127.0.0.1');
    await get(first.port, '/metrics');
    await first.close();
    await expect(get(first.port, '/metrics')).rejects.toThrow();
    server = await startMetricsServer(registry, first.port, '127.0.0.1');
    expect((await get(server.port, '/metrics')).status).toBe(200);
  });

  it('rejects when the port is taken', async () => {
    const registry = new PrometheusObserver({ defaultMetrics: false }).registry;
    server = await startMetricsServer(registry, 0, '127.0.0.1');
    await expect(startMetricsServer(registry, server.port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
  });
});
