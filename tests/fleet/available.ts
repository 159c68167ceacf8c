import { findHaproxy } from '../../src/fleet/load-balancer.js';
import { which } from '../../src/fleet/which.js';

function haveHaproxy(): boolean {
  try {
    findHaproxy();
    return true;
  } catch {
    return false;
  }
}

/** Whether this machine can start a local fleet (haproxy and redis-server installed). */
export const canStartFleet = haveHaproxy() && which('redis-server') !== undefined;

/**
 * Skip fleet tests (`describe.skipIf(skipFleet)`) on a developer's machine without haproxy or
 * redis-server; under CI they run, and fail.
 */
export const skipFleet = !canStartFleet && process.env.CI !== 'true';
