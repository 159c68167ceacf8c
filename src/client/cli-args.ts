import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ERAS, type Era } from './era.js';

export const USAGE = `usage: mcp-fleet-client <url> [options] <command> [arguments]

commands:
  tools                      list the server's tools
  call <tool> [json-args]    call a tool, e.g. call notify '{"message":"hi","count":3}'
  call --task <tool> [json]  call a tool as an MCP Task (2026-07-28): print its status as it
                             changes until it ends or asks for input (answered with
                             --elicit-answer when given)
  task get|cancel <id>       a task's status (and result), or cancel it
  task answer <id> <json>    answer a task's input requests: {"<key>": <response>, ...}
  resources                  list resources and resource templates
  read <uri>                 read a resource
  listen [uri...]            print notifications as they come: 2025 era, those of the session's
                             GET stream; 2026-07-28, list changes (and updates of the URIs) on a
                             subscriptions/listen stream
  subscribe <uri>            print the updates of a resource
  shell                      interactive: one command a line (the default without a command)

options:
  --era legacy|modern|auto   legacy: the 2025 initialize handshake and a session; modern: pin
                             2026-07-28 (stateless); auto (default): ask with server/discover,
                             fall back to legacy
  --json                     machine-readable output: one JSON document a line
  --sample-answer TEXT       answer sampling requests with TEXT instead of asking on the terminal
  --elicit-answer JSON       answer elicitation requests with this content (accept)
  --root PATH                a directory to report as a root when the server asks (a path or a
                             file: URI; repeatable; none by default)
  --header 'Name: value'     extra HTTP header (repeatable), e.g. an Authorization header
  -h, --help                 this text

exit codes: 0 ok, 1 the tool or request failed, 2 usage, 3 cannot connect, 4 not an MCP server`;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface Options {
  era: Era;
  json: boolean;
  sampleAnswer: string | undefined;
  elicitAnswer: string | undefined;
  /** file: URIs. */
  roots: string[];
  headers: Record<string, string>;
  /** call --task: run the tool as an MCP Task. */
  task: boolean;
}

export interface Invocation {
  url: URL;
  command: string;
  rest: string[];
  options: Options;
}

function parseUrl(target: string | undefined): URL {
  if (target === undefined) throw new CliError(`a server URL is required\n${USAGE}`, 2);
  try {
    const url = new URL(target);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new CliError(`not an http(s) URL: ${target}\n${USAGE}`, 2);
}

/** Roots are file: URIs; a path is turned into one. */
function parseRoot(root: string): string {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(root)) return pathToFileURL(root).href;
  if (root.startsWith('file://')) return root;
  throw new CliError(`--root wants a path or a file: URI, got ${JSON.stringify(root)}`, 2);
}

function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const header of values) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new CliError(`--header wants 'Name: value', got ${JSON.stringify(header)}`, 2);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  return headers;
}

/** Undefined for --help (the usage is printed). */
export function parse(argv: string[]): Invocation | undefined {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  const era = values.era as Era;
  if (!ERAS.includes(era)) throw new CliError(`--era wants one of ${ERAS.join(', ')}, got ${JSON.stringify(values.era)}`, 2);
  const [target, command = 'shell', ...rest] = positionals;
  return {
    url: parseUrl(target),
    command,
    rest,
    options: {
      era,
      json: values.json ?? false,
      sampleAnswer: values['sample-answer'],
      elicitAnswer: values['elicit-answer'],
      roots: (values.root ?? []).map(parseRoot),
      headers: parseHeaders(values.header ?? []),
      task: values.task ?? false,
    },
  };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      era: { type: 'string', default: 'auto' },
      json: { type: 'boolean', default: false },
      'sample-answer': { type: 'string' },
      'elicit-answer': { type: 'string' },
      root: { type: 'string', multiple: true },
      header: { type: 'string', multiple: true },
      task: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
