import { describe, expect, it } from 'vitest';
import { formatEventId, formatStandaloneEventId, newPostStreamKey, parseEventId } from '../../src/streams/event-id.js';
import { compareEntryIds } from '../../src/streams/stream-manager.js';

describe('event ids', () => {
  it('round-trips stream key and entry id', () => {
    const key = newPostStreamKey();
    expect(parseEventId(formatEventId(key, '1700000000000-3'))).toEqual({ streamKey: key, entryId: '1700000000000-3' });
    expect(parseEventId('g.0-0')).toEqual({ streamKey: 'g', entryId: '0-0' });
  });

  it('carries the resource-update log position on the standalone stream only', () => {
    expect(parseEventId(formatStandaloneEventId('17-2', '5-0'))).toEqual({ streamKey: 'g', entryId: '17-2', updatesEntryId: '5-0' });
    expect(parseEventId(`${newPostStreamKey()}.1-0.2-0`)).toBeUndefined();
    for (const bad of ['g.1-0.2-0.3-0', 'g.1-0.', 'g.1-0.x-0', 'g..2-0', 'g.1-0.18446744073709551616-0']) expect(parseEventId(bad)).toBeUndefined();
  });

  it('rejects anything else, including injection attempts', () => {
    for (const bad of ['', 'g', 'g.', 'g.1', 'x.1-0', 'g.1-0\nFLUSHALL', 'p*.1-0', 'g.1-0.2', '../g.1-0']) expect(parseEventId(bad)).toBeUndefined();
  });

  it('rejects entry ids past 64 bits, and the largest (nothing comes after it), which Redis would refuse', () => {
    expect(parseEventId('g.99999999999999999999-99999999999999999999')).toBeUndefined();
    expect(parseEventId('g.18446744073709551616-0')).toBeUndefined();
    expect(parseEventId('g.18446744073709551615-18446744073709551615')).toBeUndefined();
    expect(parseEventId('g.018446744073709551615-18446744073709551615')).toBeUndefined();
    expect(parseEventId('g.18446744073709551615-18446744073709551614')).toEqual({ streamKey: 'g', entryId: '18446744073709551615-18446744073709551614' });
  });

  it('POST stream keys are random and distinct', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newPostStreamKey()));
    expect(keys.size).toBe(1000);
  });

  it('orders entry ids numerically, not as strings', () => {
    expect(compareEntryIds('9-0', '10-0')).toBe(-1);
    expect(compareEntryIds('10-2', '10-10')).toBe(-1);
    expect(compareEntryIds('10-10', '10-10')).toBe(0);
    expect(compareEntryIds('11-0', '10-99')).toBe(1);
  });
});
