import { ResourceTemplate } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import type { WorkloadContext } from '../types.js';
import { RED_PIXEL_PNG_BASE64, SHARED_KEYS, TEMPLATE_ID_SUGGESTIONS, TEXTS, URIS, completeFrom } from './fixtures.js';

/** The text of test://watched-resource at a given version (0 until test_update_watched_resource runs). */
export function watchedResourceText(version: number): string {
  return `Watched resource content, version ${version}`;
}

// Parsed once per process and shared by every server instance (see reference.ts).
const DATA_TEMPLATE = new ResourceTemplate(URIS.template, {
  list: undefined,
  complete: { id: (value) => completeFrom(TEMPLATE_ID_SUGGESTIONS, value) },
});

/**
 * Static resources, one templated resource, and the resource that subscription tests watch. The
 * watched resource's version lives in shared state, so every replica serves the same content.
 * (resources/subscribe and resources/unsubscribe are answered by the fleet runtime.)
 */
export function registerConformanceResources(server: McpServer, ctx: WorkloadContext): void {
  server.registerResource('static-text', URIS.staticText, { title: 'Static text', description: 'A static text resource', mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: TEXTS.staticResource }],
  }));

  server.registerResource(
    'static-binary',
    URIS.staticBinary,
    { title: 'Static binary', description: 'A static binary resource (a 1x1 PNG image)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: RED_PIXEL_PNG_BASE64 }] }),
  );

  server.registerResource(
    'watched-resource',
    URIS.watched,
    {
      title: 'Watched resource',
      description: 'A resource to subscribe to; test_update_watched_resource changes it',
      mimeType: 'text/plain',
    },
    async (uri) => {
      const version = Number((await ctx.shared.get(SHARED_KEYS.watchedVersion)) ?? '0');
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: watchedResourceText(version) }] };
    },
  );

  server.registerResource(
    'template-data',
    DATA_TEMPLATE,
    {
      title: 'Templated data',
      description: 'JSON data for the id in the URI (test://template/{id}/data)',
      mimeType: 'application/json',
    },
    (uri, variables) => {
      const raw = variables['id'];
      const id = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
          },
        ],
      };
    },
  );
}
