import http from 'node:http';
import { describeExit, type ManagedProcess } from './managed-process.js';

/** One GET on a fresh connection; resolves with the status, or undefined when nothing answered. */
export function probe(url: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}

/**
 * Polls `url` until it answers 200. Fails early, with the end of its log, when `process` exits
 * first, and after `timeoutMs` otherwise.
 */
export async function waitForOk(url: string, what: string, process: ManagedProcess | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: number | undefined;
  for (;;) {
    const exit = process?.exitStatus;
    if (exit) throw new Error(`${what} ${describeExit(exit)} before it was ready. Its log (${process.logFile}):\n${process.tail()}`);
    last = await probe(url);
    if (last === 200) return;
    if (Date.now() > deadline) {
      const tail = process ? ` Its log (${process.logFile}):\n${process.tail()}` : '';
      throw new Error(`${what} was not ready within ${timeoutMs} ms (${url} answered ${last ?? 'nothing'}).${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
