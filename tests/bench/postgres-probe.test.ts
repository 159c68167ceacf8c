import { describe, expect, it } from 'vitest';
import { countsBetween, cpuBetween, cpuByRole, NOT_PER_CALL_REDIS_KEY, processRole, statementCounts, sum } from '../../bench/postgres-probe.js';

/** What the PostgreSQL cost benchmark reads from pg_stat_statements, pg_stat_activity and /proc, on canned input. */

describe('PostgreSQL statement counts', () => {
  it('tells round trips (top-level) from statements run by functions and triggers, folding white space', () => {
    const rows = [
      { query: 'UPDATE "s".shared_state t\n   SET value = $1', toplevel: true, calls: '5' },
      { query: 'UPDATE "s".shared_state t SET value = $1', toplevel: true, calls: 2 },
      { query: 'SELECT pg_notify($1, $2)', toplevel: false, calls: 7 },
    ];
    expect(statementCounts(rows)).toEqual({
      top: { 'UPDATE "s".shared_state t SET value = $1': 7 },
      nested: { 'SELECT pg_notify($1, $2)': 7 },
    });
  });

  it('leaves out what replicas send whatever the load, and the probe', () => {
    const background = [
      'SELECT $1',
      'SELECT 1',
      'INSERT INTO "mcp_fleet".instances (instance_id, alive_until, listening) VALUES ($1, now(), $3) ON CONFLICT (instance_id) DO UPDATE SET alive_until = EXCLUDED.alive_until',
      'UPDATE "mcp_fleet".instances SET listening = $1 WHERE instance_id = $2',
      'DELETE FROM "mcp_fleet".sessions WHERE ctid IN (SELECT ctid FROM "mcp_fleet".sessions WHERE expires_at <= now() LIMIT 1000 FOR UPDATE SKIP LOCKED)',
      'SELECT DISTINCT indexed_owner AS owner FROM "mcp_fleet".tasks WHERE indexed_owner IS NOT NULL AND expires_at > $1',
      'SELECT query, toplevel, calls FROM pg_stat_statements',
      'LISTEN "mcp_fleet_events"',
    ];
    const kept = 'SELECT s.record FROM "mcp_fleet".sessions s WHERE s.id = $1';
    const counts = statementCounts([...background, kept].map((query) => ({ query, toplevel: true, calls: 1 })));
    expect(counts.top).toEqual({ [kept]: 1 });
    expect(NOT_PER_CALL_REDIS_KEY.test('+1.0 [0 127.0.0.1:5] "smembers" "mcp-fleet:{tasks-index}owners"')).toBe(true);
    expect(NOT_PER_CALL_REDIS_KEY.test('+1.0 [0 127.0.0.1:5] "smembers" "mcp-fleet:subscribers:ab"')).toBe(false);
  });

  it('counts what grew between two snapshots', () => {
    const delta = countsBetween({ a: 3, b: 1 }, { a: 5, b: 1, c: 2 });
    expect(delta).toEqual({ a: 2, c: 2 });
    expect(sum(delta)).toBe(4);
  });
});

describe('PostgreSQL CPU', () => {
  it('sums what each process spent, all of it for one started in between, nothing for one gone', () => {
    expect(cpuBetween({ 10: 100, 11: 50, 12: 70 }, { 10: 160, 11: Number.NaN, 13: 30 })).toBe(90);
  });

  it('charges each process to its role: pool connections, LISTEN connections, background, the probe', () => {
    expect(processRole('client backend', 'replica-0')).toBe('commands');
    expect(processRole('client backend', 'mcp-fleet-listen:replica-0')).toBe('listen');
    expect(processRole('client backend', 'bench-probe')).toBe('probe');
    expect(processRole('walwriter', '')).toBe('background');
    expect(processRole(null, null)).toBe('background');
    const before = { cpu: { 1: 10, 2: 20, 3: 30 } };
    const after = { cpu: { 1: 15, 2: 40, 3: 31, 4: 5 }, roles: { 2: 'commands', 3: 'listen', 4: 'probe' } as const };
    expect(cpuByRole(before, after)).toEqual({ commands: 20, listen: 1, background: 5, probe: 5 });
  });
});
