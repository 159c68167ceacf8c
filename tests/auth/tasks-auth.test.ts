import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { freePort } from '../../src/fleet/free-port.js';
import { skipFleet } from '../fleet/available.js';
import { modernRequest, postModern } from '../support/raw-mcp.js';
import { CLIENTS, IdentityProvider } from './support/identity-provider.js';
import { bearer } from './support/wire.js';

/** Tasks are bound to their creator: on any replica another principal's task answers exactly like an unknown one. */
let idp: IdentityProvider;
let fleet: Fleet;
const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

beforeAll(async () => {
  const lbPort = await freePort();
  const resource = `http://127.0.0.1:${lbPort}/mcp`;
  idp = await IdentityProvider.start([resource]);
  fleet = await startFleet({
    replicas: 2,
    lbPort,
    env: { LOG_LEVEL: 'warn', MCP_WORKLOAD: 'conformance', AUTH_ISSUER: idp.issuer, AUTH_RESOURCE_URL: resource, AUTH_REQUIRED_SCOPES: 'mcp:use' },
  });
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await idp?.stop();
});

const call = async (url: string, token: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const answer = await postModern(url, modernRequest(method, params, TASKS), { ...bearer(token), ...headers });
  return { status: answer.status, message: answer.messages.find((m) => 'result' in m || 'error' in m) as any };
};

describe.skipIf(skipFleet)('tasks and principals', () => {
  it("answers another principal's tasks/get, update and cancel exactly like an unknown task's, on every replica", async () => {
    const alice = await idp.token(CLIENTS.alice, fleet.url, 'mcp:use');
    const bob = await idp.token(CLIENTS.bob, fleet.url, 'mcp:use');
    const created = await call(fleet.replicas[0]!.url, alice, 'tools/call', { name: 'slow_compute', arguments: { seconds: 30 } });
    const taskId = created.message.result.taskId as string;
    expect(typeof taskId).toBe('string');
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAA';
    for (const replica of fleet.replicas) {
      expect((await call(replica.url, alice, 'tasks/get', { taskId }, { 'Mcp-Name': taskId })).message.result).toMatchObject({ taskId, status: 'working' });
      for (const [method, extra] of [
        ['tasks/get', {}],
        ['tasks/update', { inputResponses: {} }],
        ['tasks/cancel', {}],
      ] as const) {
        const foreign = await call(replica.url, bob, method, { taskId, ...extra }, { 'Mcp-Name': taskId });
        const unknown = await call(replica.url, bob, method, { taskId: unknownId, ...extra }, { 'Mcp-Name': unknownId });
        expect(foreign.message.error.code).toBe(-32602);
        expect(foreign.status).toBe(unknown.status);
        expect(foreign.message.error.message.replace(taskId, '<id>')).toBe(unknown.message.error.message.replace(unknownId, '<id>'));
      }
    }
    // Bob's cancel did nothing to Alice's task.
    expect((await call(fleet.url, alice, 'tasks/get', { taskId }, { 'Mcp-Name': taskId })).message.result.status).toBe('working');
    await call(fleet.url, alice, 'tasks/cancel', { taskId }, { 'Mcp-Name': taskId });
  });
});
