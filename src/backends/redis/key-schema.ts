import type { RedisClient } from './connection.js';

/**
 * The layout of the keys and values this code reads and writes under REDIS_KEY_PREFIX. Raised by
 * a release that changes it (CHANGELOG.md says so in its upgrade notes): replicas of two layouts
 * must not share a prefix, or each misreads what the other wrote.
 */
export const KEY_SCHEMA_VERSION = 1;

export const keySchemaKey = (prefix: string): string => `${prefix}key-schema`;

/**
 * Claims the prefix for this layout when nobody has (SET NX), then reads who has: undefined when
 * it is this layout, else why this replica must not serve from it.
 */
export async function checkKeySchema(redis: RedisClient, prefix: string): Promise<string | undefined> {
  const key = keySchemaKey(prefix);
  await redis.set(key, String(KEY_SCHEMA_VERSION), 'NX');
  const found = await redis.get(key);
  if (found === String(KEY_SCHEMA_VERSION)) return undefined;
  return `Redis key ${key} says key schema ${JSON.stringify(found)}, this replica uses schema ${KEY_SCHEMA_VERSION}: run one schema per REDIS_KEY_PREFIX (CHANGELOG.md, upgrade notes)`;
}
