import { describe, expect, it } from 'vitest';
import {
  evaluateTarget,
  formatSideBySide,
  parseExpectedFailures,
  parseScenarioList,
  scenarioFromResultDir,
  summarizeChecks,
  type Check,
  type ScenarioSummary,
} from '../../conformance/results.mjs';

const LIST_OUTPUT = `Server scenarios (test against a server):
  - server-initialize [2025-06-18,2025-11-25]
  - server-sse-polling [2025-11-25]
  - dns-rebinding-protection [2025-11-25]

Client scenarios (test against a client):
  - initialize [2025-06-18,2025-11-25]
  - auth/metadata-default [2025-11-25]
`;

const check = (id: string, status: Check['status'], errorMessage?: string): Check => ({
  id,
  status,
  description: `${id} description`,
  ...(errorMessage === undefined ? {} : { errorMessage }),
});

const pass: ScenarioSummary = { passed: 1, failed: 0, warnings: 0, ok: true, problems: [] };
const fail: ScenarioSummary = { passed: 0, failed: 1, warnings: 0, ok: false, problems: ['FAILURE x: broken'] };

describe('parseScenarioList', () => {
  it('takes the server scenarios only, without their spec versions', () => {
    expect(parseScenarioList(LIST_OUTPUT)).toEqual([
      'server-initialize',
      'server-sse-polling',
      'dns-rebinding-protection',
    ]);
  });

  it('finds nothing in output without a server section', () => {
    expect(parseScenarioList('Client scenarios (test against a client):\n  - initialize [2025-11-25]\n')).toEqual([]);
  });
});

describe('scenarioFromResultDir', () => {
  it('strips the server- prefix and the timestamp the suite appends', () => {
    expect(scenarioFromResultDir('server-tools-call-with-progress-2026-11-24T11-56-26-017Z')).toBe(
      'tools-call-with-progress',
    );
    expect(scenarioFromResultDir('server-ping-2025-01-02T03-04-05-006Z')).toBe('ping');
  });

  it('ignores directories the suite did not write', () => {
    expect(scenarioFromResultDir('client-initialize-2026-11-24T11-56-26-017Z')).toBeUndefined();
    expect(scenarioFromResultDir('server-ping')).toBeUndefined();
  });
});

describe('summarizeChecks', () => {
  it('counts successes and failures and ignores INFO', () => {
    const summary = summarizeChecks([check('a', 'SUCCESS'), check('b', 'INFO'), check('c', 'SUCCESS')]);
    expect(summary).toEqual({ passed: 2, failed: 0, warnings: 0, ok: true, problems: [] });
  });

  it('fails a scenario on a warning, as the suite baseline does', () => {
    const summary = summarizeChecks([check('priming', 'WARNING', 'no priming event'), check('b', 'INFO')]);
    expect(summary.ok).toBe(false);
    expect(summary.warnings).toBe(1);
    expect(summary.problems).toEqual(['WARNING priming: no priming event']);
  });

  it('falls back to the description when a failed check has no message', () => {
    const summary = summarizeChecks([check('x', 'FAILURE')]);
    expect(summary).toMatchObject({ failed: 1, ok: false, problems: ['FAILURE x: x description'] });
  });

  it('passes a scenario whose checks are all INFO (nothing applicable)', () => {
    expect(summarizeChecks([check('info', 'INFO')]).ok).toBe(true);
  });
});

describe('parseExpectedFailures', () => {
  it('reads scenario → reason', () => {
    expect(parseExpectedFailures('{"ping": "because"}')).toEqual({ ping: 'because' });
    expect(parseExpectedFailures('{}')).toEqual({});
  });

  it('rejects anything but an object of non-empty reasons', () => {
    expect(() => parseExpectedFailures('["ping"]')).toThrow(/JSON object/);
    expect(() => parseExpectedFailures('{"ping": ""}')).toThrow(/needs a reason/);
    expect(() => parseExpectedFailures('{"ping": true}')).toThrow(/needs a reason/);
    expect(() => parseExpectedFailures('not json')).toThrow();
  });
});

describe('evaluateTarget', () => {
  const scenarios = ['a', 'b', 'c', 'd'];

  it('passes when every scenario passed', () => {
    const evaluation = evaluateTarget(scenarios, new Map(scenarios.map((s) => [s, pass])), {});
    expect(evaluation.ok).toBe(true);
    expect(evaluation.totals).toEqual({ checksPassed: 4, checks: 4, warnings: 0, scenariosPassed: 4, scenarios: 4 });
  });

  it('reports failures, missing results, expected failures and stale entries', () => {
    const results = new Map([
      ['a', pass],
      ['b', fail],
      ['c', fail],
    ]);
    const evaluation = evaluateTarget(scenarios, results, { c: 'outside our control', a: 'was broken', zz: 'gone' });
    expect(evaluation.rows.map((r) => [r.scenario, r.verdict])).toEqual([
      ['a', 'stale'],
      ['b', 'fail'],
      ['c', 'expected-failure'],
      ['d', 'missing'],
    ]);
    expect(evaluation.unexpected).toEqual(['b', 'd']);
    expect(evaluation.stale).toEqual(['a', 'zz']);
    expect(evaluation.ok).toBe(false);
    expect(evaluation.totals).toMatchObject({ checksPassed: 1, checks: 3, scenariosPassed: 0 });
  });

  it('is fine with an expected failure that fails', () => {
    const evaluation = evaluateTarget(['a'], new Map([['a', fail]]), { a: 'reason' });
    expect(evaluation.ok).toBe(true);
  });
});

describe('formatSideBySide', () => {
  it('lines up one column per target, with totals and targets that did not run', () => {
    const warned: ScenarioSummary = { passed: 0, failed: 0, warnings: 2, ok: false, problems: [] };
    const single = evaluateTarget(['ping', 'polling'], new Map([['ping', pass], ['polling', warned]]), {});
    const table = formatSideBySide(['ping', 'polling'], [
      { name: 'single', evaluation: single },
      { name: 'fleet', error: 'launcher missing' },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^scenario\s+single\s+fleet$/);
    expect(lines).toContain('ping              pass 1/1     -');
    expect(lines).toContain('polling           WARN 0/0 2w  -');
    expect(lines.at(-1)).toBe('scenarios passed  1/2          NOT RUN');
  });
});
