/**
 * Replicas check the key schema of the Redis they share: the first claims REDIS_KEY_PREFIX for its
 * layout; a replica of another layout reports not ready with the reason instead of misreading keys.
 */
import { describe, expect, it } from 'vitest';
import { createBackends } from '../../src/backends/index.js';
import { KEY_SCHEMA_TTL_MS, KEY_SCHEMA_VERSION, keySchemaKey } from '../../src/backends/redis/key-schema.js';
import { loadConfig } from '../../src/config.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { useRedisServer } from '../support/redis.js';
import { TEST_REQUEST_STATE_KEY } from '../support/server-process.js';

const redis = useRedisServer();

async function reasonOnceSettled(prefix: string): Promise<string | undefined> {
  const config = loadConfig({
    REDIS_URL: redis().url,
    REDIS_KEY_PREFIX: prefix,
    REQUEST_STATE_KEYS: TEST_REQUEST_STATE_KEY,
    POD_NAME: 'schema-test',
    LOG_LEVEL: 'silent',
  });
  const backends = await createBackends(config, NOOP_OBSERVER);
  try {
    let reason = await backends.unavailableReason();
    const deadline = Date.now() + 20_000;
    // Connecting, subscribing and loading scripts pass; what stays is the answer.
    while (reason !== undefined && /not connected|not loaded|not checked/.test(reason) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      reason = await backends.unavailableReason();
    }
    return reason;
  } finally {
    await backends.close();
  }
}

describe('the key schema version', () => {
  it('is claimed by the first replica on a prefix, and a replica of the same schema serves', async () => {
    expect(await reasonOnceSettled('schema-a:')).toBeUndefined();
    expect(await redis().command('GET', keySchemaKey('schema-a:'))).toContain(String(KEY_SCHEMA_VERSION));
    expect(await reasonOnceSettled('schema-a:')).toBeUndefined();
  });

  it('expires like every other key, each check of a replica of the schema renewing it', async () => {
    expect(await reasonOnceSettled('schema-ttl:')).toBeUndefined();
    const ttl = () =>
      redis()
        .command('PTTL', keySchemaKey('schema-ttl:'))
        .then((reply) => Number(reply.replace(/^:/, '').trim()));
    expect(await ttl()).toBeGreaterThan(KEY_SCHEMA_TTL_MS - 60_000);
    await redis().command('PEXPIRE', keySchemaKey('schema-ttl:'), '5000');
    expect(await reasonOnceSettled('schema-ttl:')).toBeUndefined();
    expect(await ttl()).toBeGreaterThan(KEY_SCHEMA_TTL_MS - 60_000);
  });

  it('makes a replica of another schema report not ready, naming both schemas', async () => {
    await redis().command('SET', keySchemaKey('schema-b:'), '999');
    const reason = await reasonOnceSettled('schema-b:');
    expect(reason).toMatch(/key schema "999", this replica uses schema 1/);
  });
});
