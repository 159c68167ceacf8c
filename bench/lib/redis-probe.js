// What the benchmark asks a redis-server about itself: CPU (INFO cpu), commands executed (INFO
// commandstats), MEMORY USAGE of keys, and a MONITOR census that tells commands sent by clients
// (round trips) from commands run inside scripts. A raw RESP connection, so that none of the
// servers' own Redis clients is involved.
import net from 'node:net';

/** Parses one RESP value from `buffer` at `offset`: [value, next offset], or undefined if incomplete. */
export function parseResp(buffer, offset = 0) {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = buffer[offset];
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new Error(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return [null, next];
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const parsed = parseResp(buffer, at);
        if (!parsed) return undefined;
        items.push(parsed[0]);
        at = parsed[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buffer.toString('utf8', offset, Math.min(buffer.length, offset + 40)))}`);
  }
}

const encode = (args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;

/** `INFO` text → { field: value } (numbers where they are numbers). */
export function parseInfo(text) {
  const fields = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const value = line.slice(colon + 1);
    fields[line.slice(0, colon)] = value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return fields;
}

/** `INFO commandstats` text → { command: calls }. */
export function parseCommandStats(text) {
  const calls = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

/** `INFO commandstats` text → { command: usec } (a script's usec includes the commands it ran). */
export function parseCommandUsec(text) {
  const usec = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)) usec[match[1]] = Number(match[2]);
  return usec;
}

/**
 * Commands the benchmark does not charge to calls: its own probe's (INFO, MONITOR) and PING, which
 * the replicas' readiness checks send whatever the load.
 */
export const NOT_PER_CALL = new Set(['info', 'monitor', 'ping']);

/** { command: delta / calls } between two snapshots of per-command counters, without NOT_PER_CALL. */
export function perCallBetween(before, after, calls) {
  const result = {};
  for (const [command, value] of Object.entries(after)) {
    if (NOT_PER_CALL.has(command)) continue;
    const delta = value - (before[command] ?? 0);
    if (delta > 0) result[command] = delta / Math.max(1, calls);
  }
  return result;
}

/** Commands counted between two commandstats snapshots, without those in NOT_PER_CALL. */
export function commandsBetween(before, after) {
  let total = 0;
  for (const [command, calls] of Object.entries(after)) {
    if (NOT_PER_CALL.has(command)) continue;
    total += calls - (before[command] ?? 0);
  }
  return total;
}

/**
 * Keys a replica writes or reads on a timer whatever the load (its liveness heartbeat, once a
 * second by default; the task runner's scan of task owners for orphans, every few hundred ms): like
 * PING, not charged to calls.
 */
export const NOT_PER_CALL_KEY = /instance-alive:|\{tasks-index\}owners$/;

/**
 * Counts the lines of a MONITOR feed: `[db lua]` lines are commands a script ran, every other
 * line is a command a client sent (one request on the wire); NOT_PER_CALL commands and writes of
 * NOT_PER_CALL_KEY keys are left out.
 */
export function classifyMonitor(lines) {
  let client = 0;
  let script = 0;
  const byCommand = {};
  for (const line of lines) {
    const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?/.exec(line);
    if (!match) continue;
    const command = match[2].toLowerCase();
    if (NOT_PER_CALL.has(command) || NOT_PER_CALL_KEY.test(match[3] ?? '')) continue;
    const fromScript = match[1] === 'lua';
    if (fromScript) script++;
    else client++;
    const key = fromScript ? `${command} (in script)` : command;
    byCommand[key] = (byCommand[key] ?? 0) + 1;
  }
  return { client, script, byCommand };
}

export class RedisProbe {
  #socket;
  #buffer = Buffer.alloc(0);
  #waiting = [];
  #monitorLines;

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#receive(chunk));
    socket.on('error', (error) => {
      for (const w of this.#waiting.splice(0)) w.reject(error);
    });
  }

  static connect(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new RedisProbe(socket)));
      socket.once('error', reject);
    });
  }

  #receive(chunk) {
    if (this.#monitorLines) {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      const text = this.#buffer.toString('utf8');
      const end = text.lastIndexOf('\r\n');
      if (end < 0) return;
      this.#monitorLines.push(...text.slice(0, end).split('\r\n'));
      this.#buffer = Buffer.from(text.slice(end + 2));
      return;
    }
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const parsed = this.#waiting.length > 0 ? parseResp(this.#buffer) : undefined;
      if (!parsed) return;
      this.#buffer = this.#buffer.subarray(parsed[1]);
      const waiter = this.#waiting.shift();
      if (parsed[0] instanceof Error) waiter.reject(parsed[0]);
      else waiter.resolve(parsed[0]);
    }
  }

  command(...args) {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(encode(args));
    });
  }

  /** used_cpu_sys + used_cpu_user in µs, and the commandstats calls and usec. */
  async snapshot() {
    const cpu = parseInfo(await this.command('INFO', 'cpu'));
    const stats = await this.command('INFO', 'commandstats');
    return { cpuMicros: (cpu.used_cpu_sys + cpu.used_cpu_user) * 1e6, commands: parseCommandStats(stats), usec: parseCommandUsec(stats) };
  }

  /** Turns this connection into a MONITOR feed; returns the array the lines are collected in. */
  async monitor() {
    await this.command('MONITOR');
    this.#monitorLines = [];
    return this.#monitorLines;
  }

  close() {
    this.#socket.destroy();
  }
}
