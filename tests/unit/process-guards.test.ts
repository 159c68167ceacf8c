import { afterEach, describe, expect, it } from 'vitest';
import { isRedisConnectionLoss, REDIS_CONNECTION_LOSS } from '../../src/backends/redis/errors.js';
import { installRejectionGuard, tolerateRejections } from '../../src/process-guards.js';

const undo: Array<() => void> = [];
afterEach(() => {
  for (const step of undo.splice(0)) step();
});

function guard(exits: number[]) {
  const handler = installRejectionGuard((code) => exits.push(code));
  undo.push(() => process.off('unhandledRejection', handler));
  return handler;
}

describe('the unhandled rejection guard', () => {
  it('tells a lost Redis connection from a defect', () => {
    expect(isRedisConnectionLoss(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisConnectionLoss(new Error('connect ECONNREFUSED 127.0.0.1:7001'))).toBe(true);
    expect(isRedisConnectionLoss(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isRedisConnectionLoss('Connection is closed.')).toBe(false);
  });

  it('keeps the process on a rejection a backend declared tolerated and exits 1 on anything else', () => {
    const exits: number[] = [];
    const handler = guard(exits);
    undo.push(tolerateRejections(REDIS_CONNECTION_LOSS));
    handler(new Error('Connection is closed.'));
    expect(exits).toEqual([]);
    handler(new RangeError('a defect'));
    expect(exits).toEqual([1]);
  });

  it('tolerates nothing no backend declared: without Redis, a lost Redis connection is a defect', () => {
    const exits: number[] = [];
    guard(exits)(new Error('Connection is closed.'));
    expect(exits).toEqual([1]);
  });
});
