import { afterEach, describe, expect, it } from 'vitest';
import { modernRequest, postModern, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * The documented key rotation, on separate replica processes: add the new key second, roll, move
 * it first, roll, drop the old one. A state sealed at any step completes on every replica whose
 * ring still lists its key, and is refused once the key is dropped.
 */
const OLD = 'old-request-state-key-000000000000000000';
const NEW = 'new-request-state-key-111111111111111111';
const running: ServerProcess[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop('SIGKILL')));
});

async function replica(name: string, keys: string[]): Promise<ServerProcess> {
  const server = await ServerProcess.start(name, { REQUEST_STATE_KEYS: keys.join(',') });
  running.push(server);
  return server;
}

const sample = (extra: Record<string, unknown> = {}) =>
  modernRequest('tools/call', { name: 'sample', arguments: { prompt: 'rotate' }, ...extra }, { sampling: {} });
const ANSWER = { sample: { role: 'assistant', model: 'm', content: { type: 'text', text: 'ok' } } };

async function sealOn(server: ServerProcess): Promise<string> {
  const answer = await postModern(server.url, sample());
  const state = answer.messages[0]?.result?.requestState;
  if (typeof state !== 'string') throw new Error(`no requestState from ${server.name}: ${JSON.stringify(answer.messages)}`);
  return state;
}

async function retryOn(server: ServerProcess, requestState: string): Promise<Record<string, any>> {
  const answer = await postModern(server.url, sample({ inputResponses: ANSWER, requestState }));
  const message = answer.messages[0]!;
  return 'error' in message ? { error: message.error } : { result: toolJson(answer) };
}

describe('rotating REQUEST_STATE_KEYS without downtime', () => {
  it('accepts a state sealed with the old key while the key is listed, and refuses it once dropped', async () => {
    const before = await replica('rot-old', [OLD]);
    const sealedOld = await sealOn(before);

    const added = await replica('rot-added', [OLD, NEW]);
    const moved = await replica('rot-moved', [NEW, OLD]);
    const dropped = await replica('rot-dropped', [NEW]);

    expect(await retryOn(added, sealedOld)).toMatchObject({ result: { answer: 'ok', replica: 'rot-added' } });
    expect(await retryOn(moved, sealedOld)).toMatchObject({ result: { answer: 'ok', replica: 'rot-moved' } });
    expect(await retryOn(dropped, sealedOld)).toMatchObject({ error: { code: -32602, message: 'Invalid or expired requestState' } });

    // Mid-roll, replicas that already sign with the new key and those that still sign with the old
    // one verify each other's states.
    const sealedNew = await sealOn(moved);
    expect(await retryOn(added, sealedNew)).toMatchObject({ result: { answer: 'ok' } });
    expect(await retryOn(dropped, sealedNew)).toMatchObject({ result: { answer: 'ok' } });
    expect(await retryOn(before, sealedNew)).toMatchObject({ error: { code: -32602 } });
  });

  it('binds a state to its method: one sealed for tools/call does not complete a prompts/get', async () => {
    const server = await replica('rot-bind', [OLD]);
    const state = await sealOn(server);
    const answer = await postModern(
      server.url,
      modernRequest('prompts/get', { name: 'fleet-status', arguments: {}, requestState: state, inputResponses: ANSWER }),
    );
    expect(answer.messages[0]?.error).toMatchObject({ code: -32602, message: 'Invalid or expired requestState' });
  });
});
