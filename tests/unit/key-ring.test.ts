import type { ServerContext } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { bindToMethod, createKeyRingCodec } from '../../src/request-state/key-ring.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const ctx = (method: string) => ({ mcpReq: { method } }) as unknown as ServerContext;

describe('requestState key ring', () => {
  it('signs with the first key and verifies with any key of the ring', async () => {
    const sealedByA = await createKeyRingCodec({ keys: [A], ttlSeconds: 60, bind: bindToMethod }).mint({ n: 1 }, ctx('tools/call'));
    const ring = createKeyRingCodec({ keys: [B, A], ttlSeconds: 60, bind: bindToMethod });
    expect(await ring.verify(sealedByA, ctx('tools/call'))).toEqual({ n: 1 });
    const sealedByRing = await ring.mint({ n: 2 }, ctx('tools/call'));
    await expect(createKeyRingCodec({ keys: [A], ttlSeconds: 60, bind: bindToMethod }).verify(sealedByRing, ctx('tools/call'))).rejects.toThrow('mac');
    expect(await createKeyRingCodec({ keys: [B], ttlSeconds: 60, bind: bindToMethod }).verify(sealedByRing, ctx('tools/call'))).toEqual({ n: 2 });
  });

  it('treats an expired or wrongly bound state as final, whichever key verifies it', async () => {
    const ring = createKeyRingCodec({ keys: [A, B], ttlSeconds: 60, bind: bindToMethod });
    const sealed = await ring.mint({ n: 1 }, ctx('tools/call'));
    await expect(ring.verify(sealed, ctx('prompts/get'))).rejects.toThrow('bind');
    const expired = await createKeyRingCodec({ keys: [A], ttlSeconds: -5, bind: bindToMethod }).mint({}, ctx('tools/call'));
    await expect(ring.verify(expired, ctx('tools/call'))).rejects.toThrow('expired');
  });

  it('refuses an empty ring and keys shorter than 32 bytes', () => {
    expect(() => createKeyRingCodec({ keys: [], ttlSeconds: 60, bind: bindToMethod })).toThrow(RangeError);
    expect(() => createKeyRingCodec({ keys: ['short'], ttlSeconds: 60, bind: bindToMethod })).toThrow(/at least 32 bytes/);
  });
});
