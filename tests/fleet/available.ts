import { which } from '../../src/fleet/which.js';

/** Whether this machine can start a local fleet (haproxy and redis-server on the PATH). */
export const canStartFleet = which('haproxy') !== undefined && which('redis-server') !== undefined;

/**
 * Skip fleet tests (`describe.skipIf(skipFleet)`) on a developer's machine without haproxy or
 * redis-server; under CI they run, and fail.
 */
export const skipFleet = !canStartFleet && process.env.CI !== 'true';
