#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client, SdkHttpError } from "@modelcontextprotocol/client";
import type { Notification } from "@modelcontextprotocol/client";
import { RecoveringTransport } from './recovering-transport.js';

const USAGE = `usage: mcp-fleet-client <url> [options] <command> [arguments]

commands:
  tools                      list the server's tools
  call <tool> [json-args]    call a tool, e.g. call notify '{"message":"hi","count":3}'
  resources                  list resources and resource templates
  read <uri>                 read a resource
  listen                     hold the GET stream and print notifications as they come
  subscribe <uri>            subscribe to a resource and print its updates
  shell                      interactive: one command a line (the default without a command)

options:
  --json                     machine-readable output: one JSON document a line
  --sample-answer TEXT       answer sampling requests with TEXT instead of asking on the terminal
  --elicit-answer JSON       answer elicitation requests with this content (accept)
  --header 'Name: value'     extra HTTP header (repeatable), e.g. an Authorization header
  -h, --help                 this text

exit codes: 0 ok, 1 the tool or request failed, 2 usage, 3 cannot connect, 4 not an MCP server`;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Options {
  json: boolean;
  sampleAnswer: string | undefined;
  elicitAnswer: string | undefined;
  headers: Record<string, string>;
}

function parse(argv: string[]): { url: URL; command: string; rest: string[]; options: Options } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'sample-answer': { type: 'string' },
      'elicit-answer': { type: 'string' },
      header: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [target, command = 'shell', ...rest] = positionals;
  if (target === undefined) throw new CliError(`a server URL is required\n${USAGE}`, 2);
  let url: URL;
  try {
    url = new URL(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new CliError(`not an http(s) URL: ${target}\n${USAGE}`, 2);
  }
  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new CliError(`--header wants 'Name: value', got ${JSON.stringify(header)}`, 2);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  return { url, command, rest, options: { json: values.json ?? false, sampleAnswer: values['sample-answer'], elicitAnswer: values['elicit-answer'], headers } };
}

/** Turns what went wrong while connecting into a message a person can act on. */
function connectionError(url: URL, error: unknown): CliError {
  const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error);
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|fetch failed/i.test(text)) {
    return new CliError(`could not connect to ${url.href}: is the server running, or the port-forward active? (${text.trim()})`, 3);
  }
  if (error instanceof SdkHttpError || /Unexpected content type|JSON|Error POSTing|Invalid|parse/i.test(text)) {
    return new CliError(`${url.href} does not answer as an MCP server (Streamable HTTP): ${text.trim()}`, 4);
  }
  return new CliError(`could not initialize a session with ${url.href}: ${text.trim()}`, 4);
}

class Printer {
  constructor(private readonly json: boolean) {}

  result(value: unknown, human: () => string): void {
    process.stdout.write(`${this.json ? JSON.stringify(value) : human()}\n`);
  }

  notification(notification: Notification): void {
    if (this.json) {
      process.stdout.write(`${JSON.stringify(notification)}\n`);
      return;
    }
    const params = notification.params as Record<string, unknown> | undefined;
    if (notification.method === 'notifications/message') {
      process.stdout.write(`[${String(params?.level)}] ${typeof params?.data === 'string' ? params.data : JSON.stringify(params?.data)}\n`);
    } else if (notification.method === 'notifications/resources/updated') {
      process.stdout.write(`updated: ${String(params?.uri)}\n`);
    } else {
      process.stdout.write(`${notification.method} ${params ? JSON.stringify(params) : ''}\n`);
    }
  }

  info(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

async function ask(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError('the server asked a question but there is no terminal: pass --sample-answer / --elicit-answer', 1);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

function answerServerRequests(client: Client, options: Options, printer: Printer): void {
  client.setRequestHandler('sampling/createMessage', async (request) => {
    const prompt = request.params.messages
      .flatMap((m) => (Array.isArray(m.content) ? m.content : [m.content]))
      .map((c) => (c.type === 'text' ? c.text : `[${c.type}]`))
      .join('\n');
    const text = options.sampleAnswer ?? (await ask(`The server asks for a completion of:\n${prompt}\nyour answer> `));
    printer.info(`answered a sampling request`);
    return { role: 'assistant', model: 'mcp-fleet-client', content: { type: 'text', text } };
  });
  client.setRequestHandler('elicitation/create', async (request) => {
    if (options.elicitAnswer !== undefined) {
      return { action: 'accept', content: JSON.parse(options.elicitAnswer) as Record<string, string | number | boolean | string[]> };
    }
    const reply = await ask(`The server asks: ${request.params.message}\nanswer (empty to decline)> `);
    if (reply === '') return { action: 'decline' };
    return { action: 'accept', content: { answer: reply } };
  });
  client.setNotificationHandler('notifications/message', (n) => printer.notification(n));
  client.setNotificationHandler('notifications/resources/updated', (n) => printer.notification(n));
}

async function connect(url: URL, options: Options, printer: Printer): Promise<{ client: Client; transport: RecoveringTransport }> {
  const transport = new RecoveringTransport(url, {
    requestInit: { headers: options.headers },
    onSessionChange: (change) => printer.info(`session ${change.previousSessionId ?? '-'} was lost; continuing in ${change.sessionId ?? '-'}`),
  });
  const client = new Client({ name: 'mcp-fleet-client', version: '0.1.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  answerServerRequests(client, options, printer);
  try {
    await client.connect(transport);
  } catch (error) {
    throw connectionError(url, error);
  }
  return { client, transport };
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

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function run(client: Client, command: string, rest: string[], printer: Printer): Promise<number> {
  switch (command) {
    case 'tools': {
      const { tools } = await client.listTools();
      printer.result(tools, () => tools.map((t) => `${t.name.padEnd(24)} ${t.description ?? ''}`).join('\n'));
      return 0;
    }
    case 'call': {
      const [name, args] = rest;
      if (!name) throw new CliError('call needs a tool name', 2);
      const result = await client.callTool({ name, arguments: jsonArgs(args) });
      printer.result(result, () =>
        (result.content as Array<{ type: string; text?: string }>).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n'),
      );
      return result.isError ? 1 : 0;
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
    case 'listen': {
      printer.info(`listening for notifications of session ${client.transport?.sessionId ?? '-'} (Ctrl-C to stop)`);
      await stopSignal();
      return 0;
    }
    case 'subscribe': {
      const [uri] = rest;
      if (!uri) throw new CliError('subscribe needs a resource URI', 2);
      await client.subscribeResource({ uri });
      printer.info(`subscribed to ${uri} (Ctrl-C to stop)`);
      await stopSignal();
      return 0;
    }
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n${USAGE}`, 2);
  }
}

/** One command a line from stdin; errors are printed and the shell goes on. */
async function shell(client: Client, printer: Printer): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  rl.setPrompt(process.stdin.isTTY ? 'mcp> ' : '');
  rl.prompt();
  let failures = 0;
  for await (const line of rl) {
    const words = line.trim().match(/'[^']*'|"(?:\\.|[^"])*"|\S+/g)?.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w)) ?? [];
    const [command, ...rest] = words;
    if (command === undefined) {
      rl.prompt();
      continue;
    }
    if (command === 'exit' || command === 'quit') break;
    if (command === 'listen' || command === 'subscribe' || command === 'shell') {
      if (command === 'subscribe' && rest[0]) await client.subscribeResource({ uri: rest[0] });
      printer.info(command === 'shell' ? 'already in the shell' : 'notifications are printed as they come');
    } else {
      try {
        if ((await run(client, command, rest, printer)) !== 0) failures++;
      } catch (error) {
        failures++;
        process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
    rl.prompt();
  }
  return failures === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const { url, command, rest, options } = parse(process.argv.slice(2));
  const printer = new Printer(options.json);
  const { client, transport } = await connect(url, options, printer);
  try {
    // Say "listening" only once the server holds the stream: what it sends before is not delivered.
    if (command === 'listen' || command === 'subscribe') await transport.whenStreamOpen();
    return command === 'shell' ? await shell(client, printer) : await run(client, command, rest, printer);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
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
