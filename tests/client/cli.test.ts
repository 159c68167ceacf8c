import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, initialize } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** The built binary against a real server, as a person or a script would run it. */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/client/cli.js');
let server: ServerProcess;

const run = (...args: string[]) => {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

beforeAll(async () => {
  server = await ServerProcess.start('cli-server', {});
});

afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe('mcp-fleet-client', () => {
  it('tools: a human list, or JSON', () => {
    const human = run(server.url, 'tools');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^whoami\s+Names the replica/m);
    const json = run(server.url, 'tools', '--json');
    expect((JSON.parse(json.stdout) as Array<{ name: string }>).map((t) => t.name)).toContain('bump');
  });

  it('call with JSON arguments, read, resources', () => {
    const whoami = run(server.url, 'call', 'whoami', '--json');
    expect(whoami.code).toBe(0);
    expect(JSON.parse(JSON.parse(whoami.stdout).content[0].text)).toMatchObject({ replica: 'cli-server' });
    expect(run(server.url, 'call', 'bump', '{"name":"cli"}').stdout).toMatch(/"value":1/);
    expect(JSON.parse(run(server.url, 'read', 'counter://cli').stdout)).toEqual({ name: 'cli', value: 1 });
    expect(run(server.url, 'resources').stdout).toMatch(/counter:\/\/\{name\}\s+counter \(template\)/);
  });

  it('answers sampling and elicitation from flags', () => {
    expect(JSON.parse(run(server.url, 'call', 'sample', '{"prompt":"2+2?"}', '--sample-answer', 'four').stdout)).toMatchObject({ answer: 'four' });
    expect(JSON.parse(run(server.url, 'call', 'elicit', '{"question":"ok?"}', '--elicit-answer', '{"answer":"yes"}').stdout)).toMatchObject({
      action: 'accept',
      content: { answer: 'yes' },
    });
  });

  it('runs piped commands in the shell, going on after an error', () => {
    const result = spawnSync(process.execPath, [CLI, server.url], {
      input: 'call whoami\ncall no_such_tool\nread counter://shell\nquit\n',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stdout).toMatch(/"replica":"cli-server"/);
    expect(result.stdout).toMatch(/"name":"shell","value":0/);
    expect(result.status).toBe(1);
  });

  it('listen prints notifications as they come, subscribe prints updates', async () => {
    const listener = spawn(process.execPath, [CLI, server.url, 'listen', '--json']);
    let stdout = '';
    let stderr = '';
    listener.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    listener.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Printed once the server has accepted the GET stream.
    await expect.poll(() => /listening for notifications of session ([0-9a-f-]{36})/.exec(stderr)?.[1], { timeout: 10_000 }).toBeDefined();
    const session = /listening for notifications of session ([0-9a-f-]{36})/.exec(stderr)![1]!;
    await callTool(server.url, session, 'notify', { message: 'to-the-cli', count: 3 });
    await expect.poll(() => stdout.trim().split('\n').filter((l) => l.includes('to-the-cli')).length, { timeout: 10_000 }).toBe(3);
    expect(JSON.parse(stdout.trim().split('\n')[0]!)).toMatchObject({ method: 'notifications/message', params: { data: { message: 'to-the-cli', index: 0 } } });
    const exited = new Promise<number | null>((resolve) => listener.once('exit', resolve));
    listener.kill('SIGINT');
    expect(await exited).toBe(0);

    const subscriber = spawn(process.execPath, [CLI, server.url, 'subscribe', 'counter://watched']);
    let updates = '';
    let note = '';
    subscriber.stdout.on('data', (chunk: Buffer) => (updates += chunk.toString()));
    subscriber.stderr.on('data', (chunk: Buffer) => (note += chunk.toString()));
    await expect.poll(() => note.includes('subscribed to counter://watched'), { timeout: 10_000 }).toBe(true);
    const other = await initialize(server.url);
    await callTool(server.url, other, 'bump', { name: 'watched' });
    await expect.poll(() => updates, { timeout: 10_000 }).toMatch(/updated: counter:\/\/watched/);
    subscriber.kill('SIGINT');
  });

  it('exit codes: 2 usage, 3 nothing listening, 4 not an MCP server, 1 tool error', async () => {
    expect(run('not a url', 'tools').code).toBe(2);
    expect(run(server.url, 'frobnicate').code).toBe(2);
    const refused = run('http://127.0.0.1:9/mcp', 'tools');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/could not connect .* port-forward/);
    const plain = http.createServer((_req, res) => res.end('<html>hello</html>'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    // Not spawnSync: the plain server lives in this process and must keep answering.
    const child = spawn(process.execPath, [CLI, `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`, 'tools']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    plain.close();
    expect(code).toBe(4);
    expect(stderr).toMatch(/does not answer as an MCP server/);
    expect(run(server.url, 'call', 'no_such_tool').code).toBe(1);
  });
});
