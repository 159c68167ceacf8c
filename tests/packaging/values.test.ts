/**
 * values.schema.json against values.yaml (with ajv, and through Helm 3 and Helm 4), bad values
 * rejected by all three, and the values documented in the chart's README.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { chartDir, valuesDir } from './support/paths.js';
import { HELM_MAJORS, renderError } from './support/render.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  [key: string]: unknown;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const defaults = parseYaml(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Obj;
const schema = JSON.parse(fs.readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as Schema;

/** Helm's coalescing: maps merge, anything else replaces, null deletes. */
function merge(base: Obj, over: Obj): Obj {
  const out: Obj = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isObj(v) && isObj(out[k])) out[k] = merge(out[k] as Obj, v);
    else out[k] = v;
  }
  return out;
}

/** Sets a.b.c (no list indexes) to a value, on a copy. */
function withValue(values: Obj, key: string, value: Json): Obj {
  const out = structuredClone(values);
  const parts = key.split('.');
  let node: Obj = out;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(node[p])) node[p] = {};
    node = node[p] as Obj;
  }
  node[parts[parts.length - 1]!] = value;
  return out;
}

/** Leaf keys of values.yaml: scalars, lists, and maps the schema leaves open (annotations, ...). */
function leaves(values: Json, s: Schema, prefix: string[] = []): Array<{ key: string; value: Json; schema: Schema }> {
  if (isObj(values) && Object.keys(values).length > 0 && s.properties) {
    return Object.entries(values).flatMap(([k, v]) => {
      const child = s.properties![k];
      if (!child) throw new Error(`values.yaml key ${[...prefix, k].join('.')} has no schema`);
      return leaves(v, child, [...prefix, k]);
    });
  }
  return [{ key: prefix.join('.'), value: values, schema: s }];
}

let validate: ValidateFunction;
beforeAll(() => {
  validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
});

describe('values.schema.json', () => {
  it('accepts the default values', () => {
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(fs.readdirSync(valuesDir).filter((f) => f.endsWith('.yaml')))('accepts the value set %s over the defaults', (file) => {
    const over = parseYaml(fs.readFileSync(path.join(valuesDir, file), 'utf8')) as Obj;
    expect(validate(merge(defaults, over)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('every key of values.yaml has a schema, and every schema property a default', () => {
    const keys = leaves(defaults, schema).map((l) => l.key);
    expect(keys.length).toBeGreaterThan(80);
    const schemaKeys: string[] = [];
    const walk = (s: Schema, prefix: string[], value: Json | undefined): void => {
      if (s.properties && (value === undefined || (isObj(value) && Object.keys(value).length > 0))) {
        for (const [k, child] of Object.entries(s.properties)) walk(child, [...prefix, k], isObj(value) ? value[k] : undefined);
      } else {
        schemaKeys.push(prefix.join('.'));
      }
    };
    walk(schema, [], defaults);
    expect(schemaKeys.sort()).toEqual([...keys].sort());
  });

  it('no default is null: Helm 3 drops null values before it validates, so a required key would be missing', () => {
    const nulls = leaves(defaults, schema)
      .filter((l) => l.value === null)
      .map((l) => l.key);
    expect(nulls).toEqual([]);
  });

  it('every object with known properties refuses unknown ones, and values with defaults are required', () => {
    const problems: string[] = [];
    const walk = (s: Schema, where: string): void => {
      if (s.properties) {
        // extraEnv items are EnvVar objects: checked by the Kubernetes schemas once rendered.
        if (s.additionalProperties !== false && where !== 'extraEnv[]') problems.push(`${where || '(root)'}: additionalProperties is not false`);
        // Keys with defaults must stay present (the templates read them); list items and resource
        // maps have optional fields.
        const optional = where.includes('[]') || where.endsWith('resources');
        const missing = Object.keys(s.properties).filter((k) => !(s.required ?? []).includes(k));
        if (!optional && missing.length > 0) problems.push(`${where || '(root)'}: not required: ${missing.join(', ')}`);
        for (const [k, child] of Object.entries(s.properties)) walk(child, where ? `${where}.${k}` : k);
      }
      const items = s.items as Schema | undefined;
      if (items) walk(items, `${where}[]`);
    };
    walk(schema, '');
    expect(problems).toEqual([]);
  });

  // Each bad value: the key, the value, and a fragment of ajv's error path.
  const BAD: Array<[string, Json]> = [
    ['replicaCount', -1],
    ['replicaCount', 'three'],
    ['image.pullPolicy', 'Sometimes'],
    ['image.digest', 'latest'],
    ['service.sessionAffinity', 'ClientIP'],
    ['service.type', 'ExternalName'],
    ['service.port', 70000],
    ['server.port', 0],
    ['server.mcpPath', 'mcp'],
    ['server.sessionMode', 'sticky'],
    ['server.logLevel', 'verbose'],
    ['server.maxBodyBytes', 10],
    ['server.sessionTtlSeconds', 1.5],
    ['server.allowedHosts', 'a.example,b.example'],
    ['server.allowedOrigins', ['https://a.example,https://b.example']],
    ['server.replicaHeader', 'yes'],
    ['redis.mode', 'cluster'],
    ['redis.keyPrefix', 'bad prefix'],
    ['redis.external.url', 'http://redis:6379'],
    ['redis.external.url', 'redis://user:pw@redis:6379'],
    ['redis.external.sentinels', ['no-port']],
    ['redis.external.existingSecret', 'Not_A_Name'],
    ['redis.bundled.maxmemoryPolicy', 'lru'],
    ['postgres.enabled', 'yes'],
    ['postgres.url', 'redis://db:5432/fleet'],
    ['postgres.url', 'postgres://mcp:pw@db:5432/fleet'],
    ['postgres.existingSecret', 'Not_A_Name'],
    ['postgres.schema', 'Fleet-A'],
    ['postgres.poolSize', 0],
    ['postgres.port', 70000],
    ['redis.bundled.persistence.size', 'big'],
    ['metrics.serviceMonitor.enabled', 'yes'],
    ['metrics.serviceMonitor.interval', '30 seconds'],
    ['ingress.pathType', 'Regex'],
    ['ingress.hosts', ['Not A Host']],
    ['gateway.requestTimeout', 'forever'],
    ['autoscaling.targetCPUUtilizationPercentage', 150],
    ['podDisruptionBudget.maxUnavailable', 'half'],
    ['rollingUpdate.maxSurge', -1],
    ['terminationGracePeriodSeconds', 0],
    ['extraEnv', [{ value: 'no name' }]],
    ['replicas', 3],
    ['tests.enabled', 'true'],
    ['server.listenStreamMaxMs', -1],
    ['server.bodyReadTimeoutMs', 50],
    ['server.stateMaxKeys', 0],
    ['requestState.existingSecret', 'Not_A_Name'],
    ['requestState.ttlSeconds', 0],
    ['requestState.keys', ['a-key-in-values-is-a-key-in-git-000000']],
    ['auth.enabled', 'yes'],
    ['auth.issuer', 'http://id.example.com'],
    ['auth.issuer', 'https://id.example.com/?tenant=a'],
    ['auth.resourceUrl', 'https://mcp.example.com/mcp#frag'],
    ['auth.audiences', 'https://mcp.example.com/mcp'],
    ['auth.requiredScopes', ['a,b']],
    ['auth.toolScopes', { bump: 'mcp:counters' }],
    ['auth.toolScopes', { bump: [] }],
    ['auth.toolScopes', { 'a=b': ['s'] }],
    ['auth.clockToleranceSeconds', 301],
    ['networkPolicy.ingress.from', [{ podSelector: {}, ports: [3000] }]],
    ['networkPolicy.ingress.from', [{}]],
    ['networkPolicy.egress.dns.ports', [{ port: 53, protocol: 'ICMP' }]],
    ['networkPolicy.egress.auth.to', [{ ipBlock: { except: ['10.0.0.0/8'] } }]],
  ];

  it.each(BAD)('rejects %s = %j (ajv)', (key, value) => {
    expect(validate(withValue(defaults, key, value))).toBe(false);
  });

  it.each(HELM_MAJORS.flatMap((major) => BAD.map(([key, value]) => [major, key, value] as const)))('Helm %i rejects %s = %j', (major, key, value) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-values-')), 'bad.yaml');
    try {
      fs.writeFileSync(file, JSON.stringify(withValue({}, key, value)));
      expect(renderError({ valueFiles: [file], helm: major })).toContain("values don't meet the specifications of the schema");
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});

describe('the store: Redis or PostgreSQL, not both', () => {
  const both: Obj = { postgres: { enabled: true, existingSecret: 'mcp-fleet-postgres' } };

  it('postgres.enabled with redis.mode bundled (the default) or external is refused (ajv)', () => {
    expect(validate(merge(defaults, both))).toBe(false);
    expect(validate(merge(defaults, { ...both, redis: { mode: 'external' } }))).toBe(false);
    expect(validate(merge(defaults, { ...both, redis: { mode: 'none' } }))).toBe(true);
  });

  it.each(HELM_MAJORS)('Helm %i refuses postgres.enabled with Redis, and names redis.mode', (major) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-values-')), 'both.yaml');
    try {
      fs.writeFileSync(file, JSON.stringify(both));
      const error = renderError({ valueFiles: [file], helm: major });
      expect(error).toContain("values don't meet the specifications of the schema");
      expect(error).toMatch(/redis[./]mode/);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});

describe('chart README', () => {
  const readme = fs.readFileSync(path.join(chartDir, 'README.md'), 'utf8');

  it('has a row for every value, with its default', () => {
    const rows = new Map<string, string>();
    for (const m of readme.matchAll(/^\| `([A-Za-z0-9_.]+)` \| `(.*)` \| (.+) \|$/gm)) rows.set(m[1]!, m[2]!);
    const missing: string[] = [];
    for (const { key, value } of leaves(defaults, schema)) {
      const documented = rows.get(key);
      if (documented === undefined) missing.push(key);
      else expect(JSON.parse(documented), key).toEqual(value);
    }
    expect(missing).toEqual([]);
    expect([...rows.keys()].filter((k) => !leaves(defaults, schema).some((l) => l.key === k))).toEqual([]);
  });

  it('explains that a ClusterIP Service balances per connection', () => {
    expect(readme).toMatch(/per TCP connection/);
    expect(readme).toMatch(/no session affinity/i);
  });
});
