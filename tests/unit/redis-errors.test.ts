import { describe, expect, it } from 'vitest';
import { describeRedisError } from '../../src/backends/redis/errors.js';

describe('describeRedisError', () => {
  it('says why Redis cannot serve, in words an operator can act on', () => {
    expect(describeRedisError(new Error('Command timed out'))).toBe('Redis did not answer in time');
    expect(describeRedisError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe('Redis is unreachable');
    expect(describeRedisError(new Error("OOM command not allowed when used memory > 'maxmemory'."))).toBe(
      "Redis error: OOM command not allowed when used memory > 'maxmemory'.",
    );
  });

  it("names a Redis older than 7.0, which reads the scripts' flags line as Lua", () => {
    const redis6 = new Error("ERR Error compiling script (new function): user_script:1: unexpected symbol near '#' ");
    expect(describeRedisError(redis6)).toMatch(/older than 7\.0/);
  });
});
