import { log } from './log.js';

/**
 * Rejections a store's client library is known to leave unhandled while it recovers by itself (a
 * lost connection it retries): an outage the replica already reports (not ready, 503), not a defect.
 */
export interface ToleratedRejections {
  /** Who leaves them unhandled, for the log: "a Redis connection attempt". */
  source: string;
  matches(reason: unknown): boolean;
}

const tolerated = new Set<ToleratedRejections>();

/** A backend declares the rejections its client library leaves unhandled; the guard logs those and keeps the process. */
export function tolerateRejections(rule: ToleratedRejections): () => void {
  tolerated.add(rule);
  return () => tolerated.delete(rule);
}

/** Any other unhandled rejection is a defect: logged with its stack, and the process exits (as Node's default would). */
export function installRejectionGuard(exit: (code: number) => void = (code) => process.exit(code)): (reason: unknown) => void {
  const onRejection = (reason: unknown) => {
    const rule = [...tolerated].find((candidate) => candidate.matches(reason));
    if (rule) {
      log.warn(`${rule.source} failed (left unhandled by the client library)`, { reason: reason instanceof Error ? reason.message : String(reason) });
      return;
    }
    log.error('unhandled promise rejection', { error: String(reason instanceof Error ? reason.stack : reason) });
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  return onRejection;
}
