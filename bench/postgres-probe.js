// What the benchmark asks a PostgreSQL cluster about itself: statements executed
// (pg_stat_statements, top-level ones apart: each is one round trip from a client, the others ran
// inside functions and triggers) and the CPU of every server process (/proc/<pid>/stat of the
// postmaster and its children). The cluster must load pg_stat_statements (enablePgStatStatements).
import fs from 'node:fs';
import pg from 'pg';
import { cpuMicros } from './lib/procstat.js';

/**
 * Statements the benchmark does not charge to calls: what a replica sends on a timer whatever the
 * load (readiness `SELECT 1`, which pg_stat_statements shows as `SELECT $1`; the liveness
 * heartbeat and listening flag on `instances`; the sweeper's batched deletes; the task runner's
 * scan for orphaned owners) and the probe's own queries.
 */
export const NOT_PER_CALL_STATEMENT =
  /^SELECT (1|\$1)$|^(INSERT INTO|UPDATE|DELETE FROM) \S*\binstances\b|ctid IN \(SELECT ctid|indexed_owner IS NOT NULL|pg_stat_|^LISTEN |^UNLISTEN /i;

/**
 * The Redis counterpart for a MONITOR census: commands on the task runner's orphan-scan index,
 * sent on a timer whatever the load (redis-probe.js already leaves out PING and the heartbeat).
 */
export const NOT_PER_CALL_REDIS_KEY = /\{tasks-index\}owners"/;

/** One whitespace-folded line of a statement's text, to print and to match. */
export const statementText = (query) => query.replace(/\s+/g, ' ').trim();

/**
 * pg_stat_statements rows → { top: { text: calls }, nested: { text: calls } }, without
 * NOT_PER_CALL_STATEMENT. `top`: sent by a client (a round trip each); `nested`: run by a function
 * or trigger.
 */
export function statementCounts(rows) {
  const top = {};
  const nested = {};
  for (const row of rows) {
    const text = statementText(row.query);
    if (NOT_PER_CALL_STATEMENT.test(text)) continue;
    const into = row.toplevel ? top : nested;
    into[text] = (into[text] ?? 0) + Number(row.calls);
  }
  return { top, nested };
}

/** { text: delta } of the counters that grew between two snapshots. */
export function countsBetween(before, after) {
  const delta = {};
  for (const [text, calls] of Object.entries(after)) {
    const grown = calls - (before[text] ?? 0);
    if (grown > 0) delta[text] = grown;
  }
  return delta;
}

export const sum = (counts) => Object.values(counts).reduce((s, n) => s + n, 0);

/** The pids of `root` and of its children (a postmaster's backends and auxiliary processes). */
export function processTree(root) {
  const pids = [root];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === root) pids.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return pids;
}

/** { pid: CPU µs } of the cluster's processes. */
export function clusterCpu(postmasterPid) {
  return Object.fromEntries(processTree(postmasterPid).map((pid) => [pid, cpuMicros(pid)]));
}

/**
 * CPU µs the cluster spent between two clusterCpu snapshots: what every process alive at the end
 * spent since the start (all of it for one started since). A process that ended in between is lost.
 */
export function cpuBetween(before, after) {
  let total = 0;
  for (const [pid, micros] of Object.entries(after)) {
    const start = before[pid] ?? 0;
    if (!Number.isNaN(micros) && !Number.isNaN(start)) total += micros - start;
  }
  return total;
}

/**
 * Loads pg_stat_statements into a PostgresProcess (dist/fleet/postgres-process.js) that no replica
 * uses yet, counting statements inside functions and triggers too: preload, restart, track, create.
 */
export async function enablePgStatStatements(postgres) {
  await postgres.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
  await postgres.restart();
  // The setting exists once the library is loaded.
  await postgres.query(`ALTER SYSTEM SET pg_stat_statements.track = 'all'`);
  await postgres.query('SELECT pg_reload_conf()');
  await postgres.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
}

/**
 * What a server process works for: `commands` (a replica's pool connection), `listen` (a
 * replica's LISTEN connection), `probe` (this benchmark's), `background` (the postmaster, WAL
 * writer, checkpointer, autovacuum...).
 */
export function processRole(backendType, applicationName) {
  if (backendType !== 'client backend') return 'background';
  if (applicationName === 'bench-probe') return 'probe';
  return /-listen/.test(applicationName ?? '') ? 'listen' : 'commands';
}

/** cpuBetween by role: { commands, listen, background, probe } in µs (roles from the later snapshot). */
export function cpuByRole(before, after) {
  const byRole = { commands: 0, listen: 0, background: 0, probe: 0 };
  for (const [pid, micros] of Object.entries(after.cpu)) {
    const start = before.cpu[pid] ?? 0;
    if (Number.isNaN(micros) || Number.isNaN(start)) continue;
    byRole[after.roles[pid] ?? 'background'] += micros - start;
  }
  return byRole;
}

/** One connection of its own (its backend's CPU counts too, two small queries per window). */
export class PostgresProbe {
  #client;
  #postmasterPid;

  constructor(client, postmasterPid) {
    this.#client = client;
    this.#postmasterPid = postmasterPid;
  }

  static async connect(postgres) {
    const client = new pg.Client({ connectionString: postgres.url, application_name: 'bench-probe' });
    client.on('error', () => {});
    await client.connect();
    return new PostgresProbe(client, postgres.pid);
  }

  /**
   * The cluster's processes' CPU ({ pid: µs }), what each process is ({ pid: role }, see
   * processRole) and the statement counters ({ top, nested }).
   */
  async snapshot() {
    const cpu = clusterCpu(this.#postmasterPid);
    const { rows } = await this.#client.query('SELECT query, toplevel, calls FROM pg_stat_statements');
    const { rows: activity } = await this.#client.query('SELECT pid, backend_type, application_name FROM pg_stat_activity');
    const roles = Object.fromEntries(activity.map((a) => [a.pid, processRole(a.backend_type, a.application_name)]));
    return { cpu, roles, ...statementCounts(rows) };
  }

  close() {
    return this.#client.end().catch(() => {});
  }
}
