import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { modernRequest, postModern, SseStream, type RpcAnswer } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * Task requests on one replica when a limit refuses them (429) and when its Redis is away (503):
 * JSON-RPC errors with the reason, the HTTP status the rest of the endpoint gives, never a hang.
 */
const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

let redis: RedisProcess;
let server: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  server = await ServerProcess.start('tasks-outage', { REDIS_URL: redis.url, MCP_WORKLOAD: 'conformance', TASKS_MAX_ACTIVE_PER_PRINCIPAL: '1' });
}, 60_000);

afterAll(async () => {
  await server?.stop('SIGKILL');
  await redis?.dispose();
});

const errorOf = (answer: RpcAnswer) => answer.messages.find((m) => 'error' in m)?.error;

const createTask = (tool: string, args: Record<string, unknown>) => postModern(server.url, modernRequest('tools/call', { name: tool, arguments: args }, TASKS));

const taskCall = (method: string, taskId: string, extra: Record<string, unknown> = {}) =>
  postModern(server.url, modernRequest(method, { taskId, ...extra }, TASKS), { 'Mcp-Name': taskId });

describe('task requests refused or without their store', () => {
  it('a task beyond TASKS_MAX_ACTIVE_PER_PRINCIPAL: HTTP 429 with Retry-After and a JSON-RPC error naming the limit', async () => {
    const first = await createTask('slow_compute', { seconds: 60 });
    const { taskId } = first.messages[0]!.result;
    const refused = await createTask('slow_compute', { seconds: 1 });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.messages).toHaveLength(1);
    expect(refused.messages[0]).toMatchObject({
      id: expect.any(Number),
      error: { code: -32000, message: expect.stringMatching(/Too many active tasks/), data: { limit: 'active_per_principal', max: 1 } },
    });
    expect((await taskCall('tasks/cancel', taskId)).status).toBe(200);
    // Cancelled on the owner's next watch: the caller's one active task is gone then.
    await expect.poll(async () => (await taskCall('tasks/get', taskId)).messages[0]!.result.status, { timeout: 10_000 }).toBe('cancelled');
  });

  it('Redis stopped: tools/call creating a task, tasks/get|update|cancel and a listen for tasks answer 503 with the reason', async () => {
    const parked = await createTask('confirm_delete', { filename: 'outage.txt' });
    const { taskId } = parked.messages[0]!.result;
    await redis.stop();
    try {
      const started = Date.now();
      const answers: Array<[string, RpcAnswer]> = [
        ['tools/call', await createTask('slow_compute', { seconds: 1 })],
        ['tasks/get', await taskCall('tasks/get', taskId)],
        ['tasks/update', await taskCall('tasks/update', taskId, { inputResponses: { confirm: { action: 'accept', content: { confirm: true } } } })],
        ['tasks/cancel', await taskCall('tasks/cancel', taskId)],
      ];
      for (const [method, answer] of answers) {
        expect({ method, status: answer.status, retryAfter: answer.headers.get('retry-after') }).toEqual({ method, status: 503, retryAfter: '1' });
        expect(errorOf(answer)).toMatchObject({ code: -32000, message: expect.stringMatching(/^Service Unavailable: .*Redis/) });
      }
      const listen = await SseStream.listen(server.url, modernRequest('subscriptions/listen', { notifications: { taskIds: [taskId] } }, TASKS));
      expect(listen.status).toBe(503);
      expect(JSON.parse(listen.errorBody)).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/Redis/) } });
      // Redis stays away until restarted below: a hang would never end; the bound leaves room for a busy machine.
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await redis.restart();
    }
  }, 60_000);
});
