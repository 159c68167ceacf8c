import type { RedisClient } from './connection.js';

/**
 * The layout of the keys and values this code reads and writes under REDIS_KEY_PREFIX. Raised by
 * a release that changes it (CHANGELOG.md says so in its upgrade notes): replicas of two layouts
 * must not share a prefix, or each misreads what the other wrote.
 */
export const KEY_SCHEMA_VERSION = 1;

export const keySchemaKey = (prefix: string): string => `${prefix}key-schema`;

/** Like every key here, the claim expires: each replica of the layout renews it at every check. */
export const KEY_SCHEMA_TTL_MS = 3_600_000;

/** How often a replica checks (and so renews) the claim while connected: well within its TTL. */
export const KEY_SCHEMA_CHECK_MS = 600_000;

/**
 * Claims the prefix for this layout when nobody has (SET NX), then reads who has: undefined when
 * it is this layout (the claim's TTL renewed), else why this replica must not serve from it.
 */
export async function checkKeySchema(redis: RedisClient, prefix: string): Promise<string | undefined> {
  const key = keySchemaKey(prefix);
  await redis.set(key, String(KEY_SCHEMA_VERSION), 'PX', KEY_SCHEMA_TTL_MS, 'NX');
  const found = await redis.get(key);
  if (found === String(KEY_SCHEMA_VERSION)) {
    await redis.pexpire(key, KEY_SCHEMA_TTL_MS);
    return undefined;
  }
  return `Redis key ${key} says key schema ${JSON.stringify(found)}, this replica uses schema ${KEY_SCHEMA_VERSION}: run one schema per REDIS_KEY_PREFIX (CHANGELOG.md, upgrade notes)`;
}
