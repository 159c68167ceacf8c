import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, freePort } from '../../src/fleet/free-port.js';

const listen = (port: number, host: string) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });

describe('freePort', () => {
  it('gives a port below the ephemeral range, so no outgoing connection can take it before its server binds', async () => {
    const { low } = ephemeralPortRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(low);
    expect(new Set(ports).size).toBeGreaterThan(1);
  });

  it('gives a port a server can bind on every interface', async () => {
    const server = await listen(await freePort(), '0.0.0.0');
    await new Promise((resolve) => server.close(resolve));
  });

  it('never gives the same port twice in one process, though each is closed again before the next is taken', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 2000; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
