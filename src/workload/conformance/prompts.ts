import { completable } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ARG1_SUGGESTIONS, RED_PIXEL_PNG_BASE64, TEXTS, completeFrom } from './fixtures.js';
import { sharedSchema } from '../shared-schema.js';

// Built once per process and shared by every server instance (see reference.ts).
const ARGUMENTS_SCHEMA = sharedSchema(
  z.object({
    arg1: completable(z.string().describe('First test argument'), (value) => completeFrom(ARG1_SUGGESTIONS, value)),
    arg2: z.string().describe('Second test argument'),
  }),
);
const EMBEDDED_RESOURCE_SCHEMA = sharedSchema(z.object({ resourceUri: z.string().describe('URI of the resource to embed') }));

/**
 * Prompts without arguments, with arguments (arg1 offers completions, which also gives the server
 * its completion/complete handler), with an embedded resource and with an image.
 */
export function registerConformancePrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { title: 'Simple prompt', description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: TEXTS.simplePrompt } }],
  }));

  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt with arguments',
      description: 'A prompt that puts its two arguments into the message',
      argsSchema: ARGUMENTS_SCHEMA,
    },
    ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt with embedded resource',
      description: 'A prompt that embeds the resource named by resourceUri',
      argsSchema: EMBEDDED_RESOURCE_SCHEMA,
    },
    ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: TEXTS.promptEmbeddedResource },
          },
        },
        { role: 'user', content: { type: 'text', text: TEXTS.promptEmbeddedFollowUp } },
      ],
    }),
  );

  server.registerPrompt('test_prompt_with_image', { title: 'Prompt with image', description: 'A prompt that includes image content' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: TEXTS.promptImageFollowUp } },
    ],
  }));
}
