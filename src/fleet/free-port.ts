import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Linux's default ephemeral range, used where /proc does not say. */
const DEFAULT_EPHEMERAL = { low: 32768, high: 60999 };
const LOWEST = 10_000;
const ATTEMPTS = 200;
/** Ports this process handed out: two probes in a row may otherwise both find the same port free. */
const handedOut = new Set<number>();

/** The range the kernel picks local ports of outgoing connections (and of `listen(0)`) from. */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > LOWEST + 1000) return { low: low!, high: high! };
  } catch {
    // not Linux: the default is as good a guess as any
  }
  return DEFAULT_EPHEMERAL;
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on every interface, for a process started next to bind. It is taken below the
 * ephemeral range: a port the kernel hands out for `listen(0)` is also the source port of the next
 * outgoing connection, which, on a busy machine, takes it in the moment before the process binds.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPortRange();
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = LOWEST + Math.floor(Math.random() * (low - LOWEST));
    if (handedOut.has(port)) continue;
    if ((await bindable(port, '0.0.0.0')) && (await bindable(port, '127.0.0.1'))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port between ${LOWEST} and ${low - 1} after ${ATTEMPTS} tries`);
}
