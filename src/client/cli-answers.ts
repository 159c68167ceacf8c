import { createInterface } from 'node:readline';
import type { Client, Notification } from '@modelcontextprotocol/client';
import { CliError, type Options } from './cli-args.js';

/** Results and notifications on stdout; hints on stderr, so `--json` output stays parseable. */
export class Printer {
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

/**
 * What the server may ask of the client, answered the same way in both eras: a 2025 session sends
 * these as requests; on 2026-07-28 they come inside an input_required result, which the SDK Client
 * fulfils through the same handlers and retries (on a non-sticky fleet, on any replica).
 */
export function answerServerRequests(client: Client, options: Options, printer: Printer): void {
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
  client.setRequestHandler('roots/list', async () => {
    printer.info(`reported ${options.roots.length} root(s)`);
    return { roots: options.roots.map((uri) => ({ uri })) };
  });
  // Whatever else comes (messages, resource updates, list changes) is printed.
  client.fallbackNotificationHandler = async (n) => printer.notification(n);
}
