// A workload the size of a real author's server, for `npm run bench`: 50 tools with argument
// schemas of the size such tools have (5-12 fields: strings with limits and formats, enums, numbers
// with ranges, arrays, nested objects, optional fields, descriptions on every field), 10 resources
// and 2 resource templates, 10 prompts with arguments. `whoami` is one of the tools (the call the
// bench measures); the others answer a short text. Its schemas are built once per process, as
// zod schemas usually are (module level), without the fleet's sharedSchema wrapper.
// Served with MCP_WORKLOAD=bench/workloads/wide.js.
import { ResourceTemplate } from '@modelcontextprotocol/server';
import { z } from 'zod';

const text = (value) => ({ content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] });

const DOMAINS = ['issue', 'ticket', 'invoice', 'customer', 'order', 'shipment', 'deployment', 'incident', 'document', 'calendar_event'];
const VERBS = ['search', 'get', 'create', 'update', 'archive'];

const paging = {
  limit: z.number().int().min(1).max(200).default(20).describe('How many items to return, at most.'),
  cursor: z.string().max(512).optional().describe('The cursor a previous page returned, to continue from.'),
};
const common = {
  workspace: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9-]+$/)
    .describe('The workspace slug the operation runs in.'),
  locale: z.enum(['en-US', 'en-GB', 'fr-FR', 'de-DE', 'ja-JP', 'es-ES']).default('en-US').describe('Language of the text returned.'),
};
const filters = z
  .object({
    status: z
      .array(z.enum(['open', 'pending', 'in_progress', 'blocked', 'done', 'cancelled']))
      .max(6)
      .optional()
      .describe('Only items in one of these states.'),
    createdAfter: z.string().datetime().optional().describe('Only items created after this instant (ISO 8601).'),
    createdBefore: z.string().datetime().optional().describe('Only items created before this instant (ISO 8601).'),
    owner: z.string().email().optional().describe('Only items owned by this person.'),
    tags: z.array(z.string().max(40)).max(20).optional().describe('Only items carrying all of these tags.'),
  })
  .describe('Filters, combined with AND.');
const fields = z
  .object({
    title: z.string().min(1).max(200).describe('A short title.'),
    body: z.string().max(20_000).optional().describe('The full text, Markdown.'),
    priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal').describe('How soon it needs attention.'),
    dueDate: z.string().date().optional().describe('When it is due (YYYY-MM-DD).'),
    assignees: z.array(z.string().email()).max(10).optional().describe('Who works on it.'),
    labels: z.array(z.string().max(40)).max(20).optional().describe('Free-form labels.'),
    amount: z.number().min(0).max(1e9).optional().describe('An amount in the currency below, when it has one.'),
    currency: z.enum(['USD', 'EUR', 'GBP', 'JPY']).optional().describe('ISO 4217 currency of amount.'),
  })
  .describe('The fields to set.');

const SCHEMAS = {
  search: z.object({
    ...common,
    query: z.string().min(1).max(1000).describe('Full-text query.'),
    filters: filters.optional(),
    ...paging,
    sort: z.enum(['relevance', 'newest', 'oldest', 'updated']).default('relevance').describe('Order of results.'),
  }),
  get: z.object({
    ...common,
    id: z.string().min(1).max(128).describe('The identifier.'),
    include: z
      .array(z.enum(['comments', 'history', 'attachments', 'links']))
      .max(4)
      .optional()
      .describe('Related data to include.'),
  }),
  create: z.object({
    ...common,
    fields,
    parentId: z.string().max(128).optional().describe('The parent item, if any.'),
    notify: z.boolean().default(true).describe('Whether watchers are notified.'),
    idempotencyKey: z.string().uuid().optional().describe('Repeat-safe key.'),
  }),
  update: z.object({
    ...common,
    id: z.string().min(1).max(128).describe('The identifier.'),
    fields: fields.partial(),
    expectedVersion: z.number().int().min(0).optional().describe('Fails if the item changed since.'),
    notify: z.boolean().default(true).describe('Whether watchers are notified.'),
  }),
  archive: z.object({
    ...common,
    id: z.string().min(1).max(128).describe('The identifier.'),
    reason: z.string().max(500).optional().describe('Why, for the audit log.'),
    cascade: z.boolean().default(false).describe('Archive children too.'),
  }),
};
const WHOAMI = z.object({});
const PROMPT_ARGS = z.object({
  subject: z.string().max(200).describe('What the prompt is about.'),
  tone: z.enum(['neutral', 'friendly', 'formal']).optional().describe('The tone of the answer.'),
  audience: z.string().max(100).optional().describe('Who reads it.'),
});
const TEMPLATES = DOMAINS.slice(0, 2).map((domain) => ({ domain, template: new ResourceTemplate(`${domain}://{id}`, { list: undefined }) }));

/** The 49 tools besides whoami: 5 verbs on 10 domains, less one. */
const TOOLS = DOMAINS.flatMap((domain) => VERBS.map((verb) => ({ name: `${verb}_${domain}`, verb, domain }))).slice(0, 49);

export default {
  name: 'wide',
  instructions: 'A benchmark workload of 50 tools, 10 resources, 2 resource templates and 10 prompts.',
  register(server, ctx) {
    server.registerTool('whoami', { description: 'Names the replica that served this call and the session it belongs to.', inputSchema: WHOAMI }, async () =>
      text({ replica: ctx.replicaName, sessionId: ctx.sessionId ?? null }),
    );
    for (const tool of TOOLS) {
      server.registerTool(
        tool.name,
        {
          title: `${tool.verb} ${tool.domain.replace('_', ' ')}`,
          description: `${tool.verb[0].toUpperCase()}${tool.verb.slice(1)}s ${tool.domain.replace('_', ' ')} items of the workspace. Answers a short JSON summary of what was done.`,
          inputSchema: SCHEMAS[tool.verb],
          annotations: { readOnlyHint: tool.verb === 'search' || tool.verb === 'get', idempotentHint: tool.verb !== 'create' },
        },
        async (args) => text({ tool: tool.name, workspace: args.workspace, replica: ctx.replicaName }),
      );
    }
    for (const domain of DOMAINS) {
      const uri = `${domain}://schema`;
      server.registerResource(`${domain} schema`, uri, { description: `The fields of a ${domain}.`, mimeType: 'application/json' }, async () => ({
        contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ domain, fields: Object.keys(fields.shape) }) }],
      }));
    }
    for (const { domain, template } of TEMPLATES) {
      server.registerResource(domain, template, { description: `One ${domain} by id.`, mimeType: 'application/json' }, async (uri, { id }) => ({
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ domain, id }) }],
      }));
    }
    for (const domain of DOMAINS) {
      server.registerPrompt(
        `summarise_${domain}`,
        { description: `Asks the model to summarise ${domain} items.`, argsSchema: PROMPT_ARGS },
        ({ subject, tone }) => ({
          messages: [{ role: 'user', content: { type: 'text', text: `Summarise the ${domain} items about ${subject}${tone ? `, in a ${tone} tone` : ''}.` } }],
        }),
      );
    }
  },
};
