import { CliError } from './cli-args.js';

const TASKS = 'io.modelcontextprotocol/tasks';
const PROTOCOL_VERSION = '2026-07-28';

/**
 * The tasks extension's requests on the 2026-07-28 wire. The SDK client refuses a tools/call
 * answered with `resultType: "task"`, so these go as plain JSON-RPC POSTs, declaring the
 * extension in each request's `_meta` and naming the task in `Mcp-Name`.
 */
export class TaskRequests {
  private nextId = 1;

  constructor(
    private readonly url: URL,
    private readonly headers: Record<string, string>,
  ) {}

  private async send(method: string, params: Record<string, unknown>, name: string | undefined): Promise<Record<string, unknown>> {
    const body = {
      jsonrpc: '2.0',
      id: this.nextId++,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': PROTOCOL_VERSION,
          'io.modelcontextprotocol/clientInfo': { name: 'mcp-fleet-client', version: '0.1.0' },
          'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, extensions: { [TASKS]: {} } },
        },
      },
    };
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': PROTOCOL_VERSION,
        'Mcp-Method': method,
        ...(name !== undefined ? { 'Mcp-Name': name } : {}),
        ...this.headers,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const message = answerIn(text, response.headers.get('content-type') ?? '', body.id);
    if (!message) throw new CliError(`${method}: no answer (HTTP ${response.status})`, 1);
    if (message.error) throw new CliError(`${method}: ${message.error.message} (${message.error.code})`, 1);
    return message.result ?? {};
  }

  /** A tools/call that may be answered with a task (or, for a tool that is never one, with its result). */
  call(tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.send('tools/call', { name: tool, arguments: args }, tool);
  }

  get(taskId: string): Promise<Record<string, unknown>> {
    return this.send('tasks/get', { taskId }, taskId);
  }

  async update(taskId: string, inputResponses: Record<string, unknown>): Promise<void> {
    await this.send('tasks/update', { taskId, inputResponses }, taskId);
  }

  async cancel(taskId: string): Promise<void> {
    await this.send('tasks/cancel', { taskId }, taskId);
  }
}

type Answer = { result?: Record<string, unknown>; error?: { code: number; message: string } };

/** The JSON-RPC answer to request `id`, in a JSON body or among the events of an SSE one. */
function answerIn(text: string, contentType: string, id: number): Answer | undefined {
  const parse = (data: string) => {
    try {
      return JSON.parse(data) as Answer & { id?: unknown };
    } catch {
      return undefined;
    }
  };
  if (!contentType.startsWith('text/event-stream')) return parse(text);
  const messages = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => parse(line.slice(5).trim()));
  return messages.find((m) => m?.id === id);
}

export const TERMINAL = ['completed', 'failed', 'cancelled'];

/** One line for a person: the status, its message, and what the task asks or answered. */
export function describeTask(task: Record<string, unknown>): string {
  const head = `task ${String(task.taskId)}: ${String(task.status)}${task.statusMessage ? ` (${String(task.statusMessage)})` : ''}`;
  if (task.status === 'input_required') {
    const asked = Object.entries((task.inputRequests ?? {}) as Record<string, { method?: string; params?: { message?: string } }>)
      .map(([key, request]) => `  ${key}: ${request.params?.message ?? request.method ?? ''}`)
      .join('\n');
    return `${head}\n${asked}\nanswer with: task answer ${String(task.taskId)} '{"<key>":{"action":"accept","content":{...}}}'`;
  }
  if (task.status === 'completed') return `${head}\n${textOf(task.result)}`;
  if (task.status === 'failed') return `${head}\n${JSON.stringify(task.error)}`;
  return head;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> } | undefined)?.content ?? [];
  return content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}
