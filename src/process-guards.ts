import { log } from './log.js';

/**
 * While a Cluster master is down, ioredis retries the connections of its sharded subscribers and
 * leaves some of those attempts' rejections unhandled ("Connection is closed."). Such a rejection
 * is a Redis outage the connections recover from by themselves (the replica already reports not
 * ready and answers 503), not a defect: the process must not die of it.
 */
export function isRedisConnectionLoss(reason: unknown): boolean {
  return reason instanceof Error && /^(Connection is closed\.|Stream isn't writeable|connect ECONNREFUSED|connect ETIMEDOUT)/.test(reason.message);
}

/** Any other unhandled rejection is a defect: logged with its stack, and the process exits (as Node's default would). */
export function installRejectionGuard(exit: (code: number) => void = (code) => process.exit(code)): (reason: unknown) => void {
  const onRejection = (reason: unknown) => {
    if (isRedisConnectionLoss(reason)) {
      log.warn('a Redis connection attempt failed (left unhandled by the client library)', { reason: (reason as Error).message });
      return;
    }
    log.error('unhandled promise rejection', { error: String(reason instanceof Error ? reason.stack : reason) });
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  return onRejection;
}
