import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo, RequestId } from '@modelcontextprotocol/server';
import type { Router } from 'express';
import type { AuthSettings } from '../config.js';
import { log } from '../log.js';
import { ErrorCode, sendJsonRpcError } from '../http/jsonrpc-error.js';
import { sendChallenge } from './challenge.js';
import { AuthServerUnavailableError, JwtAccessTokenVerifier, TokenRejectedError } from './jwt-verifier.js';
import type { AuthenticatedRequest } from './principal.js';
import { protectedResourceMetadataUrl, protectedResourceRouter } from './protected-resource.js';
import { calledTools, ScopePolicy } from './scopes.js';

/**
 * What checks a token; the JWT verifier by default (an introspecting one would fit too). It throws
 * TokenRejectedError or AuthServerUnavailableError, and puts the principal in `extra.iss` / `extra.sub`.
 */
export interface AccessTokenVerifier {
  verifyAccessToken(token: string): Promise<AuthInfo>;
}

/** `Authorization: Bearer <token>` (RFC 6750 §2.1); 'none' when no bearer credentials were sent. */
function bearerToken(req: IncomingMessage): string | 'none' | 'malformed' {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return 'none';
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (match) return match[1]!;
  return /^Bearer(\s|$)/i.test(header) ? 'malformed' : 'none';
}

const isListen = (body: unknown): boolean => typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'subscriptions/listen';

/** The client reconnects (a 2025 GET stream resumes with Last-Event-ID) with a fresh token. */
function endAtExpiry(res: ServerResponse, expiresAt: number | undefined): void {
  if (expiresAt === undefined) return;
  const timer = setTimeout(() => res.destroy(), Math.min(Math.max(0, expiresAt * 1000 - Date.now()), 2 ** 31 - 1));
  timer.unref();
  res.once('close', () => clearTimeout(timer));
}

const idOf = (body: unknown): RequestId | null => {
  const id = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { id?: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
};

/**
 * The OAuth 2.1 resource server in front of the MCP endpoint: its metadata, the bearer-token check
 * on every request (both eras) and the scope check of tools/call.
 */
export class ResourceServer {
  readonly policy: ScopePolicy;
  readonly metadataUrl: string;
  readonly metadataRouter: Router;

  constructor(
    settings: AuthSettings,
    mcpPath: string,
    private readonly verifier: AccessTokenVerifier = new JwtAccessTokenVerifier(settings),
  ) {
    this.policy = new ScopePolicy(settings.requiredScopes, settings.toolScopes);
    this.metadataUrl = protectedResourceMetadataUrl(settings);
    this.metadataRouter = protectedResourceRouter(settings, mcpPath);
  }

  /** Before the body is read: true with `req.auth` set for a valid token, else false with a 400/401/403/503 sent. */
  async authenticate(req: AuthenticatedRequest, res: ServerResponse): Promise<boolean> {
    const scopes = this.policy.required;
    const token = bearerToken(req);
    if (token === 'none') {
      sendChallenge(res, { scopes, resourceMetadataUrl: this.metadataUrl });
      return false;
    }
    if (token === 'malformed') {
      sendChallenge(res, {
        error: 'invalid_request',
        description: 'the Authorization header is not Bearer <token>',
        scopes,
        resourceMetadataUrl: this.metadataUrl,
      });
      return false;
    }
    let auth: AuthInfo;
    try {
      auth = await this.verifier.verifyAccessToken(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        sendChallenge(res, { error: 'invalid_token', description: error.message, scopes, resourceMetadataUrl: this.metadataUrl });
      } else if (error instanceof AuthServerUnavailableError) {
        log.warn('cannot check access tokens', { reason: error.message });
        sendJsonRpcError(res, 503, ErrorCode.ServerError, `Service Unavailable: ${error.message}`, { 'Retry-After': '1' });
      } else {
        log.error('unexpected error while checking an access token', { error: String(error instanceof Error ? error.stack : error) });
        sendJsonRpcError(res, 500, ErrorCode.InternalError, 'Internal error');
      }
      return false;
    }
    const missing = scopes.filter((s) => !auth.scopes.includes(s));
    if (missing.length > 0) {
      sendChallenge(res, {
        error: 'insufficient_scope',
        description: `this server needs the scope ${missing.join(' ')}`,
        scopes,
        resourceMetadataUrl: this.metadataUrl,
      });
      return false;
    }
    req.auth = auth;
    return true;
  }

  /**
   * After the body is parsed: false (and a 403 sent) when a called tool needs a scope the token
   * lacks. A stream that outlives requests (a GET stream, a listen stream) ends when the token
   * expires: what it carries is for the token's holder only while the token is good.
   */
  authorize(req: AuthenticatedRequest, res: ServerResponse, body: unknown): boolean {
    const granted = req.auth?.scopes ?? [];
    const tools = calledTools(body);
    const refused = tools.filter((tool) => !this.policy.allowsTool(tool, granted));
    if (refused.length === 0) {
      if (req.method === 'GET' || isListen(body)) endAtExpiry(res, req.auth?.expiresAt);
      return true;
    }
    const needed = this.policy.neededFor(tools);
    const description = `calling ${refused.join(', ')} needs the scope ${needed.filter((s) => !granted.includes(s)).join(' ')}`;
    sendChallenge(res, { error: 'insufficient_scope', description, scopes: needed, resourceMetadataUrl: this.metadataUrl }, idOf(body));
    return false;
  }
}
