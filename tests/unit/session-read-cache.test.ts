import { describe, expect, it } from 'vitest';
import { SessionReadCache } from '../../src/sessions/session-read-cache.js';

const cache = (maxEntries = 10, maxAgeMs = 5000) => {
  const reads = new SessionReadCache<string>({ maxEntries, maxAgeMs });
  reads.enable();
  return reads;
};

describe('SessionReadCache', () => {
  it('keeps a read and serves it until it is too old', () => {
    const reads = cache(10, 1000);
    const ticket = reads.beginRead('a');
    reads.finishRead('a', ticket, 'record', 60_000, 100);
    expect(reads.get('a', 500)).toBe('record');
    expect(reads.get('a', 1099)).toBe('record');
    expect(reads.get('a', 1100)).toBeUndefined();
  });

  it('serves a read no longer than the validity it came with', () => {
    const reads = cache(10, 5000);
    reads.finishRead('a', reads.beginRead('a'), 'record', 300, 100);
    expect(reads.get('a', 299)).toBe('record');
    expect(reads.get('a', 300)).toBeUndefined();
  });

  it('does not keep a read that an invalidation overtook', () => {
    const reads = cache();
    const ticket = reads.beginRead('a');
    reads.forget('a');
    reads.finishRead('a', ticket, 'stale', 60_000, 0);
    expect(reads.get('a', 1)).toBeUndefined();
  });

  it('does not keep a read begun before the invalidations were lost, even once they are back', () => {
    const reads = cache();
    const ticket = reads.beginRead('a');
    reads.disable();
    reads.enable();
    reads.finishRead('a', ticket, 'stale', 60_000, 0);
    expect(reads.get('a', 1)).toBeUndefined();
  });

  it('keeps nothing while disabled, and drops everything when disabled', () => {
    const reads = cache();
    reads.finishRead('a', reads.beginRead('a'), 'kept', 60_000, 0);
    reads.disable();
    expect(reads.get('a', 1)).toBeUndefined();
    expect(reads.beginRead('b')).toBeUndefined();
    reads.finishRead('b', undefined, 'not kept', 60_000, 0);
    expect(reads.get('b', 1)).toBeUndefined();
    expect(reads.size).toBe(0);
  });

  it('lets concurrent reads of one session share a ticket, the first answer filling it', () => {
    const reads = cache();
    const first = reads.beginRead('a');
    const second = reads.beginRead('a');
    expect(second).toBe(first);
    reads.finishRead('a', first, 'first', 60_000, 0);
    reads.finishRead('a', second, 'second', 60_000, 0);
    expect(reads.get('a', 1)).toBe('first');
  });

  it('drops the ticket of a read that found nothing, so the next touch reads again', () => {
    const reads = cache();
    const ticket = reads.beginRead('a');
    reads.abandonRead('a', ticket);
    expect(reads.size).toBe(0);
  });

  it('holds at most maxEntries, the oldest going first', () => {
    const reads = cache(2);
    for (const id of ['a', 'b', 'c']) reads.finishRead(id, reads.beginRead(id), id, 60_000, 0);
    expect(reads.size).toBe(2);
    expect(reads.get('a', 1)).toBeUndefined();
    expect(reads.get('b', 1)).toBe('b');
    expect(reads.get('c', 1)).toBe('c');
  });
});
