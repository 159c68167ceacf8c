import { afterAll, beforeAll } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';

/** A private redis-server for the current test file, stopped after it. */
export function useRedisServer(): () => RedisProcess {
  let redis: RedisProcess | undefined;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis?.dispose();
  });
  return () => {
    if (!redis) throw new Error('redis-server has not started');
    return redis;
  };
}
