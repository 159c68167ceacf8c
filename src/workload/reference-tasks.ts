import { inputRequired, type CallToolResult } from '@modelcontextprotocol/server';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { needInput, type TaskToolDefinition } from '../tasks/task-tool.js';
import { sharedSchema } from './shared-schema.js';

const REPORT_SCHEMA = sharedSchema(
  z.object({
    topic: z.string().describe('What the report is about'),
    stepMs: z.number().int().min(0).max(60_000).optional().describe('How long each step takes (default 500 ms)'),
  }),
);

const APPENDIX_QUESTION = inputRequired.elicit({
  message: 'The draft is ready. Add an appendix with the raw figures?',
  requestedSchema: { type: 'object', properties: { appendix: { type: 'boolean' } }, required: ['appendix'] },
});

interface ReportMemory {
  sections: string[];
}

/**
 * A report built in steps, as a task: gathering and drafting (round 1), a question to the user,
 * then the appendix and the final assembly (round 2). Each step reports a status message any
 * replica's tasks/get shows; a round keeps nothing in the process, so it is safe to run again on
 * another replica if its own dies.
 */
export const generateReport: TaskToolDefinition<ReportMemory> = {
  name: 'generate_report',
  config: {
    title: 'Generate a report (task)',
    description: 'Builds a report in several steps with status messages, asking once mid-way whether to add an appendix',
    inputSchema: REPORT_SCHEMA,
  },
  taskSupport: 'optional',
  resumable: true,
  async round({ args, memory, answers, signal, setStatus }): Promise<CallToolResult | ReturnType<typeof needInput<ReportMemory>>> {
    const topic = String(args.topic);
    const stepMs = typeof args.stepMs === 'number' ? args.stepMs : 500;
    const step = async (message: string) => {
      await setStatus(message);
      await delay(stepMs, undefined, { signal });
    };
    if (memory === undefined) {
      await step(`Gathering sources on ${topic} (1/4)`);
      await step('Drafting the sections (2/4)');
      return needInput({ appendix: APPENDIX_QUESTION }, { sections: [`Sources on ${topic}`, `Findings on ${topic}`] });
    }
    const reply = answers.appendix as { action?: unknown; content?: { appendix?: unknown } } | undefined;
    const sections = [...memory.sections];
    if (reply?.action === 'accept' && reply.content?.appendix === true) {
      await step('Adding the appendix (3/4)');
      sections.push('Appendix: raw figures');
    }
    await step('Assembling the report (4/4)');
    return { content: [{ type: 'text', text: `Report on ${topic}:\n${sections.map((s, i) => `${i + 1}. ${s}`).join('\n')}` }] };
  },
};
