import { randomBytes } from 'node:crypto';
import { createRequestStateCodec, type RequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import { principalKey, principalOf } from '../auth/principal.js';

export interface KeyRingOptions {
  /** The first key signs; every key verifies (rotation: add the new key second, roll, move it first, roll, drop the old). */
  keys: string[];
  ttlSeconds: number;
  /** What a state is bound to; a state minted under one binding fails verification under another. */
  bind: (ctx: ServerContext) => string;
}

/**
 * The fleet's requestState codec: one HMAC codec per configured key, so that every replica verifies
 * what any replica signed, through a key rotation too.
 */
export function createKeyRingCodec<T = unknown>({ keys, ttlSeconds, bind }: KeyRingOptions): RequestStateCodec<T> {
  if (keys.length === 0) throw new RangeError('a requestState key ring needs at least one key');
  const codecs = keys.map((key) => createRequestStateCodec<T>({ key, ttlSeconds, bind }));
  const signer = codecs[0]!;
  return {
    mint: (payload, ctx) => signer.mint(payload, ctx),
    async verify(state, ctx) {
      let failure: unknown;
      for (const codec of codecs) {
        try {
          return await codec.verify(state, ctx);
        } catch (error) {
          // Only a MAC mismatch means "maybe another key"; expiry or a wrong binding is final.
          if (!(error instanceof Error) || error.message !== 'mac') throw error;
          failure = error;
        }
      }
      throw failure;
    },
  };
}

/** A per-process key for one in-memory replica, where no other process has to verify its states. */
export function ephemeralKey(): string {
  return randomBytes(32).toString('base64url');
}

/** States are bound to the request's method: one minted for tools/call cannot complete a prompts/get. */
export const bindToMethod = (ctx: ServerContext): string => ctx.mcpReq.method;

/**
 * States are bound to the method and to the principal whose token the request carried: one minted
 * for A's tools/call cannot complete B's. Without authorization, to the method alone.
 */
export const bindToMethodAndPrincipal = (ctx: ServerContext): string => {
  const principal = principalOf(ctx.http?.authInfo);
  return principal === undefined ? bindToMethod(ctx) : `${bindToMethod(ctx)}\n${principalKey(principal)}`;
};
