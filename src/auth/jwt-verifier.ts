import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { AuthSettings } from '../config.js';
import { discoverJwksUrl } from './issuer-metadata.js';
import { splitScopes } from '../scope-syntax.js';

/** The token is not acceptable here: 401 invalid_token. */
export class TokenRejectedError extends Error {}

/** The issuer's metadata or keys cannot be had right now: 503, the token may well be good. */
export class AuthServerUnavailableError extends Error {}

/** jose errors that speak of the token itself; any other failure is the key set's. */
const TOKEN_ERRORS = new Set([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JWEInvalid.code,
]);

/** Asymmetric signatures only: a symmetric key in a published key set would let anyone sign. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** After a failed metadata fetch, requests are refused at once for this long instead of each waiting on the issuer. */
const FAILURE_HOLD_MS = 1000;

/** RFC 8707 resource identifiers compared without a fragment and one trailing slash, scheme and host case-folded. */
export function canonicalResource(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  url.hash = '';
  return url.href.replace(/\/$/, '');
}

/**
 * Validates JWT access tokens (RFC 9068) locally against the issuer's published keys: signature,
 * `iss`, `exp`/`nbf` (with a small clock tolerance), `aud` bound to this server, `sub` present.
 */
export class JwtAccessTokenVerifier {
  private keys: JWTVerifyGetKey | undefined;
  private pending: Promise<JWTVerifyGetKey> | undefined;
  private failure: { at: number; reason: string } | undefined;
  private readonly audiences: Set<string>;

  constructor(private readonly settings: AuthSettings) {
    this.audiences = new Set(settings.audiences.map(canonicalResource));
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        algorithms: ALGORITHMS,
        clockTolerance: this.settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.classify(error);
    }
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!audiences.some((aud) => this.audiences.has(canonicalResource(aud)))) {
      throw new TokenRejectedError('the token was not issued for this resource (aud)');
    }
    if (typeof payload.sub !== 'string') throw new TokenRejectedError('the token has no subject');
    return {
      token,
      clientId: stringClaim(payload.client_id) ?? stringClaim(payload.azp) ?? payload.sub,
      scopes: scopesOf(payload),
      expiresAt: payload.exp,
      resource: new URL(this.settings.resourceUrl),
      extra: { iss: payload.iss, sub: payload.sub },
    };
  }

  private classify(error: unknown): Error {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TOKEN_ERRORS.has(code)) {
      return new TokenRejectedError(error instanceof errors.JWTExpired ? 'the token has expired' : (error as Error).message);
    }
    return new AuthServerUnavailableError(`the issuer's key set could not be fetched (${describe(error)})`);
  }

  private async keySet(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    if (this.failure && Date.now() - this.failure.at < FAILURE_HOLD_MS) throw new AuthServerUnavailableError(this.failure.reason);
    this.pending ??= this.resolveKeySet().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async resolveKeySet(): Promise<JWTVerifyGetKey> {
    let url = this.settings.jwksUrl;
    if (url === undefined) {
      try {
        url = await discoverJwksUrl(this.settings.issuer, this.settings.fetchTimeoutMs);
      } catch (error) {
        this.failure = { at: Date.now(), reason: `the issuer's metadata could not be fetched (${describe(error)})` };
        throw new AuthServerUnavailableError(this.failure.reason);
      }
    }
    this.keys = createRemoteJWKSet(new URL(url), { timeoutDuration: this.settings.fetchTimeoutMs });
    return this.keys;
  }
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `scope` (RFC 9068, space-separated) or `scp` (an array, as some providers send). */
function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return splitScopes(payload.scope);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  if (typeof payload.scp === 'string') return splitScopes(payload.scp);
  return [];
}

function describe(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return 'timed out';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return detail === undefined ? message : `${message}: ${detail}`;
}
