import { StoreInputError, StoreUnavailableError } from '../store-errors.js';

export function describeRedisError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Command timed out/i.test(message)) return 'Redis did not answer in time';
  if (/enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|max retries|MaxRetriesPerRequest/i.test(message)) {
    return 'Redis is unreachable';
  }
  if (/LOADING/.test(message)) return 'Redis is loading its data set';
  if (/READONLY/.test(message)) return 'Redis is read-only (failover in progress)';
  if (/BUSY/.test(message)) return 'Redis is busy';
  // Redis 6 reads a script's `#!lua` flags line as Lua.
  if (/Error compiling script.*unexpected symbol near '#'/s.test(message))
    return 'Redis is older than 7.0, which the Lua scripts need (they declare their flags)';
  return `Redis error: ${message}`;
}

/** Error replies about the data a command was given (an increment of a value that is no integer): the input's fault, not Redis's. */
const INPUT_ERROR = /\b(WRONGTYPE|value is not an integer|increment or decrement would overflow)/;

/**
 * Wraps a Redis call so that a failure surfaces as StoreInputError (Redis refused what it was
 * given) or StoreUnavailableError (anything else), with a readable reason.
 */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StoreUnavailableError || error instanceof StoreInputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (INPUT_ERROR.test(message))
      throw new StoreInputError(`Redis refused the value: ${message.split('\n')[0]!.replace(/ script: .*$/, '')}`, { cause: error });
    throw new StoreUnavailableError(describeRedisError(error), { cause: error });
  }
}

/**
 * While a Cluster master is down, ioredis retries the connections of its sharded subscribers and
 * leaves some of those attempts' rejections unhandled ("Connection is closed."). Such a rejection
 * is a Redis outage the connections recover from by themselves (the replica already reports not
 * ready and answers 503), not a defect: the process must not die of it.
 */
export function isRedisConnectionLoss(reason: unknown): boolean {
  return reason instanceof Error && /^(Connection is closed\.|Stream isn't writeable|connect ECONNREFUSED|connect ETIMEDOUT)/.test(reason.message);
}

export const REDIS_CONNECTION_LOSS = { source: 'a Redis connection attempt', matches: isRedisConnectionLoss };
