/** Redis could not be reached or did not answer in time: the server answers 503 with this reason. */
export class StoreUnavailableError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'StoreUnavailableError';
  }
}

export function describeRedisError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Command timed out/i.test(message)) return 'Redis did not answer in time';
  if (/enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable|max retries|MaxRetriesPerRequest/i.test(message)) {
    return 'Redis is unreachable';
  }
  if (/LOADING/.test(message)) return 'Redis is loading its data set';
  if (/READONLY/.test(message)) return 'Redis is read-only (failover in progress)';
  if (/BUSY/.test(message)) return 'Redis is busy';
  return `Redis error: ${message}`;
}

/** Wraps a Redis call so that any failure surfaces as StoreUnavailableError with a readable reason. */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    throw new StoreUnavailableError(describeRedisError(error), { cause: error });
  }
}
