import { describe, expect, it } from 'vitest';
import { KNOWN_REDIS_OPERATIONS, METHOD_LABELS, OTHER, OperationFolder, foldMethod, foldStatus } from '../../src/metrics/index.js';
import { foldTo } from '../../src/metrics/labels.js';

describe('foldMethod', () => {
  it('keeps every allowed MCP method and pseudo-method', () => {
    for (const method of METHOD_LABELS) expect(foldMethod(method)).toBe(method);
    expect(METHOD_LABELS).toEqual(expect.arrayContaining(['initialize', 'tools/call', 'notification', 'response', 'GET', 'DELETE', 'batch']));
  });

  it('keeps the methods only 2026-07-28 has', () => {
    expect(foldMethod('server/discover')).toBe('server/discover');
    expect(foldMethod('subscriptions/listen')).toBe('subscriptions/listen');
  });

  it('folds any POSTed notification method to notification', () => {
    for (const method of ['notifications/cancelled', 'notifications/progress', 'notifications/x'.repeat(100)]) {
      expect(foldMethod(method)).toBe('notification');
    }
    expect(foldMethod('notifications')).toBe(OTHER);
  });

  it('folds unknown, differently cased and hostile methods to other', () => {
    for (const method of ['tools/Call', 'TOOLS/CALL', 'sampling/createMessage', 'get', '', 'x'.repeat(10_000), 'tools/call ', '__proto__', 'constructor']) {
      expect(foldMethod(method)).toBe(OTHER);
    }
  });
});

describe('foldStatus', () => {
  it('keeps HTTP status codes and folds anything else', () => {
    expect(foldStatus(200)).toBe('200');
    expect(foldStatus(404)).toBe('404');
    expect(foldStatus(599)).toBe('599');
    for (const status of [0, 99, 600, 200.5, NaN, Infinity, -404]) expect(foldStatus(status)).toBe(OTHER);
  });
});

describe('foldTo', () => {
  it('keeps allowed values only', () => {
    expect(foldTo(['local', 'redis'], 'redis')).toBe('redis');
    expect(foldTo(['local', 'redis'], 'Redis')).toBe(OTHER);
  });
});

describe('OperationFolder', () => {
  it('keeps known Redis commands, lower-cased', () => {
    const folder = new OperationFolder(0);
    expect(folder.fold('HSET')).toBe('hset');
    expect(folder.fold('evalsha')).toBe('evalsha');
    expect(folder.fold('publish')).toBe('publish');
    for (const op of KNOWN_REDIS_OPERATIONS) expect(folder.fold(op)).toBe(op);
  });

  it('admits well-formed script names until the cap, then folds new ones to other', () => {
    const folder = new OperationFolder(3);
    expect(folder.fold('append_event')).toBe('append_event');
    expect(folder.fold('touch-session')).toBe('touch-session');
    expect(folder.fold('route:answer')).toBe('route:answer');
    expect(folder.fold('one_too_many')).toBe(OTHER);
    // names admitted before the cap stay, and known commands never count against it
    expect(folder.fold('append_event')).toBe('append_event');
    expect(folder.fold('Route:Answer')).toBe('route:answer');
    expect(folder.fold('get')).toBe('get');
  });

  it('folds malformed names without using up the cap', () => {
    const folder = new OperationFolder(1);
    for (const op of ['', '1abc', 'a'.repeat(33), 'has space', 'sess:{abc}', 'é', 'a/b', 'other']) {
      expect(folder.fold(op)).toBe(OTHER);
    }
    expect(folder.fold('a'.repeat(32))).toBe('a'.repeat(32));
  });

  it('bounds the distinct values at the known commands plus 64 by default', () => {
    const folder = new OperationFolder();
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(folder.fold(`script_${i}`));
    for (const op of KNOWN_REDIS_OPERATIONS) seen.add(folder.fold(op));
    expect(seen.size).toBe(KNOWN_REDIS_OPERATIONS.length + 64 + 1);
    expect(seen.has(OTHER)).toBe(true);
  });
});
