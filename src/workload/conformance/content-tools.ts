import type { McpServer } from '@modelcontextprotocol/server';
import { RED_PIXEL_PNG_BASE64, SILENT_WAV_BASE64, TEXTS, URIS } from './fixtures.js';
import { errorResult, textResult } from './results.js';

/** Tools whose results exercise each content type, and the error flag. */
export function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { title: 'Simple text', description: 'Returns a single text content item' }, () => textResult(TEXTS.simpleTool));

  server.registerTool('test_image_content', { title: 'Image content', description: 'Returns a 1x1 PNG image content item' }, () => ({
    content: [{ type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' }],
  }));

  server.registerTool('test_audio_content', { title: 'Audio content', description: 'Returns a short WAV audio content item' }, () => ({
    content: [{ type: 'audio', data: SILENT_WAV_BASE64, mimeType: 'audio/wav' }],
  }));

  server.registerTool('test_embedded_resource', { title: 'Embedded resource', description: 'Returns an embedded text resource' }, () => ({
    content: [{ type: 'resource', resource: { uri: URIS.embedded, mimeType: 'text/plain', text: TEXTS.embeddedResource } }],
  }));

  server.registerTool(
    'test_multiple_content_types',
    { title: 'Mixed content', description: 'Returns text, image and embedded resource content together' },
    () => ({
      content: [
        { type: 'text', text: TEXTS.mixedIntro },
        { type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: URIS.mixedContent,
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_error_handling',
    { title: 'Error result', description: 'Always fails, reporting the failure as a tool error (isError: true)' },
    () => errorResult(TEXTS.toolError),
  );
}
