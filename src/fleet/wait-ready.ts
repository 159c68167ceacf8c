import http from 'node:http';
import { describeExit, type ManagedProcess } from './managed-process.js';
import { pollUntil } from './poll.js';

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
export async function waitForOk(url: string, what: string, process: ManagedProcess | undefined, timeoutMs = 45_000): Promise<void> {
  let last: number | undefined;
  await pollUntil(
    async () => {
      const exit = process?.exitStatus;
      if (exit) throw new Error(`${what} ${describeExit(exit)} before it was ready. Its log (${process.logFile}):\n${process.tail()}`);
      last = await probe(url);
      return last === 200 ? true : undefined;
    },
    {
      timeoutMs,
      timedOut: () => {
        const tail = process ? ` Its log (${process.logFile}):\n${process.tail()}` : '';
        return new Error(`${what} was not ready within ${timeoutMs} ms (${url} answered ${last ?? 'nothing'}).${tail}`);
      },
    },
  );
}
