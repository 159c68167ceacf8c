#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { Client, LOG_LEVEL_META_KEY, SdkHttpError } from '@modelcontextprotocol/client';
import { answerServerRequests, Printer } from './cli-answers.js';
import { CliError, parse, SHELL_HELP, USAGE, type Options } from './cli-args.js';
import { runTaskCommand } from './cli-tasks.js';
import { Watches } from './cli-watches.js';
import { versionNegotiation } from './era.js';
import { RecoveringTransport } from './recovering-transport.js';

/** Turns what went wrong while connecting into a message a person can act on. */
/** The innermost network error's code (ECONNREFUSED, ...): fetch wraps it as `TypeError: fetch failed`, the SDK once more. */
function networkCode(error: unknown): string | undefined {
  const seen: unknown[] = [error];
  for (let i = 0; i < seen.length && i < 20; i++) {
    const e = seen[i];
    if (!(e instanceof Error)) continue;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    seen.push((e as { cause?: unknown }).cause, ...((e as { errors?: unknown[] }).errors ?? []));
  }
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET/.exec(String(error instanceof Error ? error.stack : error))?.[0];
}

/** The JSON-RPC error message of a refused HTTP answer (the server's reason), if the SDK kept it. */
function serverReason(text: string): string | undefined {
  const match = /"message":"((?:[^"\\]|\\.)*)"/.exec(text);
  return match ? (JSON.parse(`"${match[1]}"`) as string) : undefined;
}

/** mcp-fleet's /readyz reason, for a 503 whose body the SDK did not keep. */
async function readinessReason(url: URL): Promise<string | undefined> {
  try {
    const response = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { reason?: unknown };
    return typeof body.reason === 'string' ? body.reason : undefined;
  } catch {
    return undefined;
  }
}

function connectionError(url: URL, error: unknown, readiness?: string): CliError {
  const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
  const code = networkCode(error);
  if (code !== undefined || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|fetch failed/i.test(text)) {
    return new CliError(`could not connect to ${url.href} (${code ?? 'no connection'}): is the server running, or the port-forward active?`, 3);
  }
  const status = error instanceof SdkHttpError ? error.status : Number(/\b(50[0-9]|4[0-9]{2})\b/.exec(text)?.[1] ?? NaN);
  const reason = serverReason(text) ?? readiness;
  if (status === 503 || /Service Unavailable|HTTP 503/.test(text)) {
    return new CliError(`${url.href} is an MCP server but cannot serve now (503): ${reason ?? text.trim()}`, 4);
  }
  if (error instanceof SdkHttpError || /Unexpected content type|JSON|Error POSTing|Invalid|parse/i.test(text)) {
    return new CliError(`${url.href} does not answer as an MCP server (Streamable HTTP): ${text.trim()}`, 4);
  }
  return new CliError(`could not connect to ${url.href} as an MCP client: ${text.trim()}`, 4);
}

interface Session {
  client: Client;
  transport: RecoveringTransport;
  watches: Watches;
  printer: Printer;
}

async function connect(url: URL, options: Options, printer: Printer): Promise<Session> {
  let watches: Watches | undefined;
  const transport = new RecoveringTransport(url, {
    requestInit: { headers: options.headers },
    // The GET stream (2025) backs off like a 2026-07-28 listen: doubling from 100 ms, capped at 5 s.
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 5000, reconnectionDelayGrowFactor: 2, maxRetries: 10 },
    onSessionChange: (change) => {
      printer.info(`session ${change.previousSessionId ?? '-'} was lost; continuing in ${change.sessionId ?? '-'}`);
      watches?.resubscribe();
    },
    onReissue: ({ method }) => printer.info(`the response stream of ${method} broke; re-issued it as a new request`),
  });
  const client = new Client(
    { name: 'mcp-fleet-client', version: '0.1.0' },
    { capabilities: { sampling: {}, elicitation: {}, roots: {} }, versionNegotiation: versionNegotiation(options.era) },
  );
  answerServerRequests(client, options, printer);
  try {
    await client.connect(transport);
  } catch (error) {
    throw connectionError(url, error, await readinessReason(url));
  }
  watches = new Watches(client, transport, printer);
  return { client, transport, watches, printer };
}

function jsonArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw new CliError(`tool arguments must be a JSON object, got ${text}`, 2);
  }
}

/** Resolves on Ctrl-C or SIGTERM; rejects if a listen stream is lost for good. */
function untilStopped(watches: Watches): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return Promise.race([stopped, watches.lost]);
}

async function run(session: Session, command: string, rest: string[], hold: boolean): Promise<number> {
  const { client, transport, watches, printer } = session;
  switch (command) {
    case 'tools': {
      const { tools } = await client.listTools();
      printer.result(tools, () => tools.map((t) => `${t.name.padEnd(24)} ${t.description ?? ''}`).join('\n'));
      return 0;
    }
    case 'call': {
      const [name, args] = rest;
      if (!name) throw new CliError('call needs a tool name', 2);
      // 2026-07-28 has no logging/setLevel: a request names its own level, and the server logs on its stream.
      const _meta = transport.era === 'modern' ? { [LOG_LEVEL_META_KEY]: 'debug' } : undefined;
      // Progress notifications of the call (the SDK sends a progressToken when asked to report them).
      const onprogress = (p: { progress: number; total?: number; message?: string }) =>
        printer.info(`progress ${p.progress}${p.total !== undefined ? `/${p.total}` : ''}${p.message ? `: ${p.message}` : ''}`);
      const result = await client.callTool({ name, arguments: jsonArgs(args), ...(_meta && { _meta }) }, { onprogress });
      printer.result(result, () =>
        (result.content as Array<{ type: string; text?: string }>).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n'),
      );
      return result.isError ? 1 : 0;
    }
    case 'prompts': {
      const { prompts } = await client.listPrompts();
      printer.result(prompts, () => prompts.map((p) => `${p.name.padEnd(24)} ${p.description ?? ''}`).join('\n'));
      return 0;
    }
    case 'prompt': {
      const [name, args] = rest;
      if (!name) throw new CliError('prompt needs a prompt name', 2);
      const result = await client.getPrompt({ name, arguments: jsonArgs(args) as Record<string, string> });
      printer.result(result, () => result.messages.map((m) => `${m.role}: ${m.content.type === 'text' ? m.content.text : `[${m.content.type}]`}`).join('\n'));
      return 0;
    }
    case 'resources': {
      const [{ resources }, { resourceTemplates }] = await Promise.all([
        client.listResources().catch(() => ({ resources: [] })),
        client.listResourceTemplates().catch(() => ({ resourceTemplates: [] })),
      ]);
      printer.result({ resources, resourceTemplates }, () =>
        [...resources.map((r) => `${r.uri}  ${r.name}`), ...resourceTemplates.map((t) => `${t.uriTemplate}  ${t.name} (template)`)].join('\n'),
      );
      return 0;
    }
    case 'read': {
      const [uri] = rest;
      if (!uri) throw new CliError('read needs a resource URI', 2);
      const result = await client.readResource({ uri });
      printer.result(result, () => result.contents.map((c) => ('text' in c ? String(c.text) : `[${c.mimeType ?? 'binary'}]`)).join('\n'));
      return 0;
    }
    case 'listen':
    case 'subscribe': {
      const [uri] = rest;
      if (command === 'subscribe' && !uri) throw new CliError('subscribe needs a resource URI', 2);
      // Say so only once the notifications can flow: what the server sends before is not delivered.
      printer.info(command === 'listen' ? await watches.listen(rest) : await watches.subscribe(uri!));
      if (hold) await untilStopped(watches);
      return 0;
    }
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n${USAGE}`, 2);
  }
}

/** One command a line from stdin; errors are printed and the shell goes on. */
async function shell(session: Session): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  rl.setPrompt(process.stdin.isTTY ? 'mcp> ' : '');
  rl.prompt();
  let failures = 0;
  for await (const line of rl) {
    const words =
      line
        .trim()
        .match(/'[^']*'|"(?:\\.|[^"])*"|\S+/g)
        ?.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w)) ?? [];
    const [command, ...rest] = words;
    if (command === undefined) {
      rl.prompt();
      continue;
    }
    if (command === 'exit' || command === 'quit') break;
    try {
      if (command === 'shell') session.printer.info('already in the shell');
      else if (command === 'help') process.stdout.write(`${SHELL_HELP}\n`);
      // listen and subscribe go on in the background; their notifications are printed as they come.
      else if ((await run(session, command, rest, false)) !== 0) failures++;
    } catch (error) {
      failures++;
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    rl.prompt();
  }
  return failures === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const invocation = parse(process.argv.slice(2));
  if (invocation === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { url, command, rest, options } = invocation;
  if (command === 'task' || (command === 'call' && options.task)) return runTaskCommand(url, command, rest, options, new Printer(options.json));
  const session = await connect(url, options, new Printer(options.json));
  if (options.era === 'auto')
    session.printer.info(
      `era: ${session.transport.era === 'modern' ? '2026-07-28 (modern)' : '2025 sessions (legacy)'}, chosen by server/discover (--era to pin one)`,
    );
  try {
    return command === 'shell' ? await shell(session) : await run(session, command, rest, true);
  } finally {
    await session.watches.close().catch(() => {});
    await session.transport.terminateSession().catch(() => {});
    await session.client.close().catch(() => {});
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`mcp-fleet-client: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`mcp-fleet-client: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
