import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, initialize } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';
import { CuttingProxy } from './cutting-proxy.js';

/** The built binary against a real server, as a person or a script would run it. */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/client/cli.js');
let server: ServerProcess;

const run = (...args: string[]) => {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

/** A CLI process that keeps running (listen, subscribe), or talks to a server living in this process. */
function start(...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args]);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { out, exited, stop: () => (child.kill('SIGINT'), exited) };
}

const lines = (text: string) => text.trim().split('\n').filter(Boolean);

beforeAll(async () => {
  server = await ServerProcess.start('cli-server', {});
});

afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe.each(['legacy', 'modern'] as const)('mcp-fleet-client --era %s', (era) => {
  const cli = (...args: string[]) => run(server.url, '--era', era, ...args);

  it('tools: a human list, or JSON', () => {
    const human = cli('tools');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^whoami\s+Names the replica/m);
    const json = cli('tools', '--json');
    expect((JSON.parse(json.stdout) as Array<{ name: string }>).map((t) => t.name)).toContain('bump');
  });

  it('call with JSON arguments, read, resources; a session only in the 2025 era', () => {
    const whoami = cli('call', 'whoami', '--json');
    expect(whoami.code).toBe(0);
    const me = JSON.parse(JSON.parse(whoami.stdout).content[0].text) as { replica: string; sessionId: string | null };
    expect(me.replica).toBe('cli-server');
    expect(me.sessionId === null).toBe(era === 'modern');
    expect(cli('call', 'bump', `{"name":"cli-${era}"}`).stdout).toMatch(/"value":1/);
    expect(JSON.parse(cli('read', `counter://cli-${era}`).stdout)).toEqual({ name: `cli-${era}`, value: 1 });
    expect(cli('resources').stdout).toMatch(/counter:\/\/\{name\}\s+counter \(template\)/);
  });

  it("prints a call's log notifications", () => {
    const notify = cli('call', 'notify', '{"message":"logged","count":2}', '--json');
    expect(notify.code).toBe(0);
    const messages = lines(notify.stdout).map((l) => JSON.parse(l) as { method?: string; params?: { data?: { message: string } } });
    expect(messages.filter((m) => m.method === 'notifications/message' && m.params?.data?.message === 'logged')).toHaveLength(2);
  });

  it('answers sampling, elicitation and roots from flags', () => {
    expect(JSON.parse(cli('call', 'sample', '{"prompt":"2+2?"}', '--sample-answer', 'four').stdout)).toMatchObject({ answer: 'four' });
    expect(JSON.parse(cli('call', 'elicit', '{"question":"ok?"}', '--elicit-answer', '{"answer":"yes"}').stdout)).toMatchObject({
      action: 'accept',
      content: { answer: 'yes' },
    });
    const roots = cli('call', 'roots', '--root', '/srv/data', '--root', 'file:///tmp');
    expect(JSON.parse(roots.stdout)).toMatchObject({ roots: [{ uri: 'file:///srv/data' }, { uri: 'file:///tmp' }] });
    expect(roots.stderr).toMatch(/reported 2 root\(s\)/);
  });

  it('runs piped commands in the shell, going on after an error', () => {
    const result = spawnSync(process.execPath, [CLI, server.url, '--era', era], {
      input: `call whoami\ncall no_such_tool\nread counter://shell-${era}\nquit\n`,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stdout).toMatch(/"replica":"cli-server"/);
    expect(result.stdout).toMatch(new RegExp(`"name":"shell-${era}","value":0`));
    expect(result.status).toBe(1);
  });

  it('subscribe prints the updates of a resource bumped by someone else', async () => {
    const subscriber = start(server.url, '--era', era, 'subscribe', `counter://watched-${era}`);
    await expect.poll(() => subscriber.out.stderr, { timeout: 10_000 }).toMatch(new RegExp(`subscribed to counter://watched-${era}`));
    const other = await initialize(server.url);
    await callTool(server.url, other, 'bump', { name: `watched-${era}` });
    await expect.poll(() => subscriber.out.stdout, { timeout: 10_000 }).toMatch(new RegExp(`updated: counter://watched-${era}`));
    expect(await subscriber.stop()).toBe(0);
  });

  it('exit codes: 3 nothing listening, 4 not an MCP server, 1 tool error', async () => {
    const refused = run('http://127.0.0.1:9/mcp', '--era', era, 'tools');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/could not connect .* port-forward/);
    expect(refused.stderr).not.toMatch(/TypeError/);
    const plain = http.createServer((_req, res) => res.end('<html>hello</html>'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    // Not spawnSync: the plain server lives in this process and must keep answering.
    const child = start(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`, '--era', era, 'tools');
    const code = await child.exited;
    plain.close();
    expect(code).toBe(4);
    expect(child.out.stderr).toMatch(/does not answer as an MCP server/);
    expect(cli('call', 'no_such_tool').code).toBe(1);
  });
});

describe('mcp-fleet-client: prompts, progress, the era auto chose, help in the shell', () => {
  it('lists and gets prompts', () => {
    const list = run(server.url, 'prompts');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^fleet-status\s+Asks the model/m);
    const prompt = run(server.url, 'prompt', 'fleet-status', '{"focus":"latency"}');
    expect(prompt.code).toBe(0);
    expect(prompt.stdout).toMatch(/^user: .*focusing on latency\.$/m);
  });

  it.each(['legacy', 'modern'] as const)('--era %s: shows the progress notifications of a call', (era) => {
    const call = run(server.url, '--era', era, 'call', 'progress', '{"steps":3}');
    expect(call.code).toBe(0);
    expect(lines(call.stderr).filter((l) => l.startsWith('progress '))).toEqual([
      'progress 1/3: step 1 of 3',
      'progress 2/3: step 2 of 3',
      'progress 3/3: step 3 of 3',
    ]);
  });

  it('auto says which era it chose; a pinned era says nothing', () => {
    expect(run(server.url, 'tools').stderr).toMatch(/^era: 2026-07-28 \(modern\), chosen by server\/discover/m);
    expect(run(server.url, '--era', 'legacy', 'tools').stderr).not.toMatch(/^era:/m);
  });

  it('help inside the shell lists the commands', () => {
    const result = spawnSync(process.execPath, [CLI, server.url, 'shell'], { input: 'help\nexit\n', encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^ {2}prompts\s+list the server's prompts$/m);
    expect(result.stdout).toMatch(/^ {2}help\s+this list$/m);
  });
});

describe('mcp-fleet-client against a replica that cannot serve', () => {
  it.each(['legacy', 'modern'] as const)("--era %s: a 503 is reported with the server's reason, exit 4", async (era) => {
    // A replica whose Redis is not there: it answers MCP requests and /readyz 503 with the reason.
    const unavailable = http.createServer((req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      if (req.url === '/readyz') res.end(JSON.stringify({ status: 'not ready', reason: 'Redis is not connected (Redis is unreachable)' }));
      else res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Service Unavailable: Redis is unreachable' }, id: null }));
    });
    await new Promise<void>((resolve) => unavailable.listen(0, '127.0.0.1', resolve));
    const child = start(`http://127.0.0.1:${(unavailable.address() as AddressInfo).port}/mcp`, '--era', era, 'tools');
    const code = await child.exited;
    unavailable.close();
    expect(code).toBe(4);
    expect(child.out.stderr).toMatch(/cannot serve now \(503\): .*Redis is unreachable/);
    expect(child.out.stderr).not.toMatch(/does not answer as an MCP server/);
  });
});

describe('mcp-fleet-client', () => {
  it('without --era it asks the server (auto) and speaks 2026-07-28 to this one', () => {
    const whoami = run(server.url, 'call', 'whoami');
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ replica: 'cli-server', sessionId: null });
  });

  it('exit code 2 for usage errors', () => {
    expect(run('not a url', 'tools').code).toBe(2);
    expect(run(server.url, 'frobnicate').code).toBe(2);
    expect(run(server.url, '--era', 'future', 'tools')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--era wants one of legacy, modern, auto/) });
    expect(run(server.url, '--no-such-flag', 'tools').code).toBe(2);
    expect(run(server.url, '--root', 'https://example.test/', 'tools').code).toBe(2);
  });

  it('2025 era: listen holds the GET stream and prints what the session is sent', async () => {
    const listener = start(server.url, '--era', 'legacy', 'listen', '--json');
    // Printed once the server has accepted the GET stream.
    const sessionOf = () => /listening for notifications of session ([0-9a-f-]{36})/.exec(listener.out.stderr)?.[1];
    await expect.poll(sessionOf, { timeout: 10_000 }).toBeDefined();
    await callTool(server.url, sessionOf()!, 'notify', { message: 'to-the-cli', count: 3 });
    await expect.poll(() => lines(listener.out.stdout).filter((l) => l.includes('to-the-cli')).length, { timeout: 10_000 }).toBe(3);
    expect(JSON.parse(lines(listener.out.stdout)[0]!)).toMatchObject({
      method: 'notifications/message',
      params: { data: { message: 'to-the-cli', index: 0 } },
    });
    expect(await listener.stop()).toBe(0);
  });

  it('2025 era: subscribe survives a lost session: reported, subscribed again in the new one', async () => {
    const subscriber = start(server.url, '--era', 'legacy', 'subscribe', 'counter://kept');
    const sessionOf = () => /subscribed to counter:\/\/kept in session ([0-9a-f-]{36})/.exec(subscriber.out.stderr)?.[1];
    await expect.poll(sessionOf, { timeout: 10_000 }).toBeDefined();
    expect((await fetch(server.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sessionOf()! } })).status).toBe(200);
    await expect.poll(() => subscriber.out.stderr, { timeout: 10_000 }).toMatch(/session \S+ was lost; continuing in \S+/);
    const other = await initialize(server.url);
    // Bump until one arrives: the new session subscribes again just after it was reported.
    await expect
      .poll(async () => (await callTool(server.url, other, 'bump', { name: 'kept' }), subscriber.out.stdout), { timeout: 10_000, interval: 200 })
      .toMatch(/updated: counter:\/\/kept/);
    expect(await subscriber.stop()).toBe(0);
  });

  it('2026-07-28: listen opens subscriptions/listen for list changes and the URIs given', async () => {
    const listener = start(server.url, '--era', 'modern', 'listen', 'counter://listened', '--json');
    await expect
      .poll(() => listener.out.stderr, { timeout: 10_000 })
      .toMatch(/listening for tools, prompts, resources list changes; updates of counter:\/\/listened/);
    expect(run(server.url, 'call', 'bump', '{"name":"listened"}').code).toBe(0);
    await expect.poll(() => lines(listener.out.stdout), { timeout: 10_000 }).toHaveLength(1);
    expect(JSON.parse(lines(listener.out.stdout)[0]!)).toMatchObject({ method: 'notifications/resources/updated', params: { uri: 'counter://listened' } });
    expect(await listener.stop()).toBe(0);
  });

  it('2026-07-28: subscribe listens again when the server restarts, and later updates are printed', async () => {
    const restarting = await ServerProcess.start('cli-restarting', {});
    const subscriber = start(restarting.url, '--era', 'modern', 'subscribe', 'counter://restart');
    try {
      await expect.poll(() => subscriber.out.stderr, { timeout: 10_000 }).toMatch(/subscribed to counter:\/\/restart/);
      await restarting.stop('SIGTERM');
      await restarting.start();
      await expect.poll(() => subscriber.out.stderr, { timeout: 15_000 }).toMatch(/the listen stream ended \(graceful\); listening again/);
      await expect
        .poll(async () => (run(restarting.url, 'call', 'bump', '{"name":"restart"}'), subscriber.out.stdout), { timeout: 10_000, interval: 200 })
        .toMatch(/updated: counter:\/\/restart/);
      expect(await subscriber.stop()).toBe(0);
    } finally {
      await restarting.stop('SIGKILL');
    }
  });

  it('2026-07-28: a call whose response stream breaks is re-issued, with a hint on stderr', async () => {
    const proxy = await CuttingProxy.start([server.port]);
    try {
      proxy.cutNext((method) => method === 'tools/call', 1);
      const call = start(proxy.url, '--era', 'modern', 'call', 'notify', '{"message":"cut","count":3}');
      expect(await call.exited).toBe(0);
      expect(call.out.stderr).toMatch(/the response stream of tools\/call broke; re-issued it as a new request/);
      expect(call.out.stdout).toMatch(/"sent":3/);
      expect(proxy.count('tools/call')).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});
