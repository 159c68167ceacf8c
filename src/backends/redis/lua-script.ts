import { createHash } from 'node:crypto';
import { registerScriptName, type RedisClient } from './connection.js';

const allScripts: LuaScript[] = [];

/** Every script of the modules loaded so far. */
export function declaredScripts(): readonly LuaScript[] {
  return allScripts;
}

/**
 * Loads every script on a connection (on each 'ready', as a restarted Redis has none), so that even
 * the first use is one EVALSHA round trip. Cluster nodes load them on first use instead.
 */
export async function preloadScripts(client: RedisClient): Promise<void> {
  if ('nodes' in client) return;
  await Promise.all(allScripts.map((script) => client.script('LOAD', script.lua)));
}

/**
 * What a script may do, declared to Redis in its shebang (`#!lua flags=...`, Redis 7) so that Redis
 * decides before running it, as it does for a single command:
 * - `writes`: may grow the data set. Refused while Redis is out of memory (maxmemory with
 *   noeviction) before it starts, with the same OOM error as any other write. Without the
 *   declaration Redis would check only until the script's first write, and a first write that OOM
 *   allows (ZREMRANGEBYSCORE, PEXPIRE) would let the rest write past the limit.
 * - `reads`: writes nothing (`no-writes`), so it runs under OOM and on a replica.
 * - `frees`: only deletes, or publishes (`allow-oom`): what DEL and PUBLISH may do under OOM, it may
 *   too, so a session can still end and its memory be freed.
 */
export type ScriptAccess = 'writes' | 'reads' | 'frees';

const SHEBANG: Record<ScriptAccess, string> = {
  writes: '#!lua',
  reads: '#!lua flags=no-writes',
  frees: '#!lua flags=allow-oom',
};

/** A Lua script run with EVALSHA (one round trip), loaded with EVAL the first time a server lacks it. */
export class LuaScript {
  readonly sha: string;
  readonly lua: string;

  constructor(
    readonly name: string,
    readonly access: ScriptAccess,
    body: string,
  ) {
    this.lua = `${SHEBANG[access]}\n${body}`;
    this.sha = createHash('sha1').update(this.lua).digest('hex');
    registerScriptName(this.lua, name);
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
