import { afterEach, describe, expect, it } from 'vitest';
import { installRejectionGuard, isRedisConnectionLoss } from '../../src/process-guards.js';

const installed: Array<(reason: unknown) => void> = [];
afterEach(() => {
  for (const handler of installed.splice(0)) process.off('unhandledRejection', handler);
});

describe('the unhandled rejection guard', () => {
  it('tells a lost Redis connection from a defect', () => {
    expect(isRedisConnectionLoss(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisConnectionLoss(new Error('connect ECONNREFUSED 127.0.0.1:7001'))).toBe(true);
    expect(isRedisConnectionLoss(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isRedisConnectionLoss('Connection is closed.')).toBe(false);
  });

  it('keeps the process on a lost Redis connection and exits 1 on anything else', () => {
    const exits: number[] = [];
    const handler = installRejectionGuard((code) => exits.push(code));
    installed.push(handler);
    handler(new Error('Connection is closed.'));
    expect(exits).toEqual([]);
    handler(new RangeError('a defect'));
    expect(exits).toEqual([1]);
  });
});
