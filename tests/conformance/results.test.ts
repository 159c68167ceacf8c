import { describe, expect, it } from 'vitest';
import {
  evaluateRun,
  formatSideBySide,
  parseExpectedFailures,
  parseRequirementList,
  scenarioFromResultDir,
  summarizeChecks,
  type Check,
  type ScenarioSummary,
} from '../../conformance/results.mjs';

/** The shape of `conformance list --server --requirements 2026-07-28` (shortened). */
const REQUIREMENTS_OUTPUT = `Required for 2026-07-28 (6 scenarios, frozen; run at the 2026-07-28 wire):

Server scenarios (test against a server):
  - server-stateless
  - caching

Client scenarios (test against a client):
  - tools_call
  - request-metadata

Run and reported, but never scored:
  extension (2):
    - auth/dpop [client]
    - tasks-lifecycle [server]
  added-after-release (1):
    - json-schema-2020-12-preservation [client]
  pending (1):
    - http-header-validation [server]
`;

const check = (id: string, status: Check['status'], errorMessage?: string): Check => ({
  id,
  status,
  description: `${id} description`,
  ...(errorMessage === undefined ? {} : { errorMessage }),
});

const summary = (passed: number, failed = 0, warnings = 0, skipped = 0): ScenarioSummary => ({
  passed,
  failed,
  warnings,
  skipped,
  ok: failed === 0 && warnings === 0,
  problems: failed + warnings > 0 ? ['FAILURE x: broken'] : [],
});
const pass = summary(1);
const fail = summary(0, 1);

describe('parseRequirementList', () => {
  it('takes the server scenarios a revision requires and the server ones it runs unscored, with the reason', () => {
    expect(parseRequirementList(REQUIREMENTS_OUTPUT)).toEqual({
      required: ['server-stateless', 'caching'],
      notScored: [
        { scenario: 'tasks-lifecycle', reason: 'extension' },
        { scenario: 'http-header-validation', reason: 'pending' },
      ],
    });
  });

  it('finds nothing in output without a server section', () => {
    expect(parseRequirementList('Client scenarios (test against a client):\n  - initialize\n')).toEqual({ required: [], notScored: [] });
  });
});

describe('scenarioFromResultDir', () => {
  it('strips the server- prefix and the timestamp the suite appends', () => {
    expect(scenarioFromResultDir('server-tools-call-with-progress-2026-11-24T11-56-26-017Z')).toBe('tools-call-with-progress');
    expect(scenarioFromResultDir('server-ping-2025-01-02T03-04-05-006Z')).toBe('ping');
  });

  it('ignores directories the suite did not write', () => {
    expect(scenarioFromResultDir('client-initialize-2026-11-24T11-56-26-017Z')).toBeUndefined();
    expect(scenarioFromResultDir('server-ping')).toBeUndefined();
  });
});

describe('summarizeChecks', () => {
  it('counts successes, failures and skips and ignores INFO', () => {
    const counted = summarizeChecks([check('a', 'SUCCESS'), check('b', 'INFO'), check('c', 'SUCCESS'), check('d', 'SKIPPED')]);
    expect(counted).toEqual({ passed: 2, failed: 0, warnings: 0, skipped: 1, ok: true, problems: [] });
  });

  it('fails a scenario on a warning, as the suite baseline does', () => {
    const counted = summarizeChecks([check('priming', 'WARNING', 'no priming event'), check('b', 'INFO')]);
    expect(counted.ok).toBe(false);
    expect(counted.warnings).toBe(1);
    expect(counted.problems).toEqual(['WARNING priming: no priming event']);
  });

  it('falls back to the description when a failed check has no message', () => {
    expect(summarizeChecks([check('x', 'FAILURE')])).toMatchObject({ failed: 1, ok: false, problems: ['FAILURE x: x description'] });
  });
});

describe('parseExpectedFailures', () => {
  const revisions = ['2025-11-25', '2026-07-28'];

  it('reads revision → scenario → reason, giving every revision an entry', () => {
    expect(parseExpectedFailures('{"2026-07-28": {"caching": "because"}}', revisions)).toEqual({
      '2025-11-25': {},
      '2026-07-28': { caching: 'because' },
    });
  });

  it('rejects unknown revisions, non-objects and empty reasons', () => {
    expect(() => parseExpectedFailures('["ping"]', revisions)).toThrow(/JSON object/);
    expect(() => parseExpectedFailures('{"2024-01-01": {}}', revisions)).toThrow(/no revision/);
    expect(() => parseExpectedFailures('{"2025-11-25": ["ping"]}', revisions)).toThrow(/object of scenario/);
    expect(() => parseExpectedFailures('{"2025-11-25": {"ping": ""}}', revisions)).toThrow(/needs a reason/);
    expect(() => parseExpectedFailures('{"2025-11-25": {"ping": true}}', revisions)).toThrow(/needs a reason/);
    expect(() => parseExpectedFailures('not json', revisions)).toThrow();
  });
});

describe('evaluateRun', () => {
  const required = ['a', 'b', 'c', 'd'];

  it('passes when every required scenario passed, whatever the unscored ones did', () => {
    const results = new Map([...required.map((s) => [s, pass] as const), ['ext', fail]]);
    const evaluation = evaluateRun({ required, notScored: [{ scenario: 'ext', reason: 'extension' }] }, results, {});
    expect(evaluation.ok).toBe(true);
    expect(evaluation.totals).toEqual({ checksPassed: 4, checks: 4, warnings: 0, skipped: 0, scenariosPassed: 4, scenarios: 4 });
    expect(evaluation.informational).toEqual([{ scenario: 'ext', reason: 'extension', summary: fail }]);
  });

  it('reports failures, missing results, expected failures and stale entries', () => {
    const results = new Map([
      ['a', pass],
      ['b', fail],
      ['c', fail],
    ]);
    const evaluation = evaluateRun({ required }, results, { c: 'outside our control', a: 'was broken', zz: 'gone' });
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
    expect(evaluateRun({ required: ['a'] }, new Map([['a', fail]]), { a: 'reason' }).ok).toBe(true);
  });
});

describe('formatSideBySide', () => {
  it('lines up one column per run, blank where a revision does not require a scenario, with totals and unscored scenarios', () => {
    const legacy = evaluateRun(
      { required: ['ping', 'polling'] },
      new Map([
        ['ping', pass],
        ['polling', summary(0, 0, 2)],
      ]),
      {},
    );
    const modern = evaluateRun(
      { required: ['ping', 'caching'], notScored: [{ scenario: 'tasks', reason: 'extension' }] },
      new Map([
        ['ping', pass],
        ['caching', summary(7, 0, 0, 1)],
        ['tasks', fail],
      ]),
      {},
    );
    const table = formatSideBySide([
      { name: 'single 2025', evaluation: legacy },
      { name: 'single 2026', evaluation: modern },
      { name: 'fleet 2025', error: 'launcher missing' },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^scenario\s+single 2025\s+single 2026\s+fleet 2025$/);
    expect(lines).toContain('ping             pass 1/1     pass 1/1     -');
    expect(lines).toContain('polling          WARN 0/2 2w               -');
    expect(lines).toContain('caching                       pass 7/7 1s  -');
    expect(lines).toContain('required passed  1/2          2/2          NOT RUN');
    expect(lines).toContain('tasks (extension)               fail 0/1     -');
  });
});
