import { createHash } from 'node:crypto';
import { registerScriptName, type RedisClient } from './connection.js';

const allScripts: LuaScript[] = [];

/**
 * Loads every script on a connection (on each 'ready', as a restarted Redis has none), so that even
 * the first use is one EVALSHA round trip. Cluster nodes load them on first use instead.
 */
export async function preloadScripts(client: RedisClient): Promise<void> {
  if ('nodes' in client) return;
  await Promise.all(allScripts.map((script) => client.script('LOAD', script.lua)));
}

/** A Lua script run with EVALSHA (one round trip), loaded with EVAL the first time a server lacks it. */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
    registerScriptName(lua, name);
    allScripts.push(this);
  }

  async run(client: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return client.eval(this.lua, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}
