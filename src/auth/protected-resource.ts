import express from 'express';
import { getOAuthProtectedResourceMetadataUrl, type OAuthProtectedResourceMetadata } from '@modelcontextprotocol/server';
import type { AuthSettings } from '../config.js';
import { ErrorCode, sendJsonRpcError } from '../http/jsonrpc-error.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** RFC 9728 metadata: this resource, its authorization server, how to present a token. */
export function protectedResourceMetadata(settings: AuthSettings): OAuthProtectedResourceMetadata {
  return {
    resource: settings.resourceUrl,
    authorization_servers: [settings.issuer],
    bearer_methods_supported: ['header'],
    // The scopes basic use needs; per-tool scopes are asked for with a 403 when a call needs them.
    ...(settings.requiredScopes.length > 0 && { scopes_supported: settings.requiredScopes }),
    resource_name: 'mcp-fleet',
  };
}

/** The metadata URL clients are sent to: the path-suffixed well-known form of the resource URL. */
export function protectedResourceMetadataUrl(settings: AuthSettings): string {
  return getOAuthProtectedResourceMetadataUrl(new URL(settings.resourceUrl));
}

/**
 * Serves the metadata at the root well-known path and at the path-suffixed ones, for the public
 * resource URL's path and for this server's own MCP path (they differ behind a path-rewriting proxy).
 */
export function protectedResourceRouter(settings: AuthSettings, mcpPath: string): express.Router {
  const document = JSON.stringify(protectedResourceMetadata(settings));
  const suffix = (path: string) => (path === '/' || path === '' ? '' : path.replace(/\/$/, ''));
  const paths = [...new Set([WELL_KNOWN, WELL_KNOWN + suffix(new URL(settings.resourceUrl).pathname), WELL_KNOWN + suffix(mcpPath)])];
  const router = express.Router();
  router.all(paths, (req, res) => {
    // Browser-based clients read it from any origin.
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
      res.status(204).end();
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.type('application/json').send(document);
    } else {
      sendJsonRpcError(res, 405, ErrorCode.ServerError, 'Method not allowed: the protected resource metadata is read with GET', {
        Allow: 'GET, HEAD, OPTIONS',
      });
    }
  });
  return router;
}
