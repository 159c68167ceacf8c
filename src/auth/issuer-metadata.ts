/**
 * Where an issuer publishes its metadata, in the order MCP clients try them: RFC 8414 with the
 * issuer's path inserted, then OpenID Connect Discovery inserted and appended.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  const at = (pathname: string) => new URL(pathname, url.origin).href;
  if (path === '') return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  return [at(`/.well-known/oauth-authorization-server${path}`), at(`/.well-known/openid-configuration${path}`), at(`${path}/.well-known/openid-configuration`)];
}

/**
 * The issuer's `jwks_uri`, from the first metadata document found. A document whose `issuer` is
 * not exactly the configured one is refused (RFC 8414 §3.3), as clients refuse it.
 */
export async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<string> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const response = await fetch(url, { headers: { Accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) }).catch(
      (error: unknown) => {
        throw new Error(
          error instanceof Error && error.name === 'TimeoutError' ? `${url} timed out` : `${url}: ${String((error as { cause?: unknown }).cause ?? error)}`,
        );
      },
    );
    if (response.status === 404) {
      tried.push(`${url}: 404`);
      continue;
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const document = (await response.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
    if (document?.issuer !== issuer) throw new Error(`${url} names issuer ${JSON.stringify(document?.issuer)}, not ${issuer}`);
    if (typeof document.jwks_uri !== 'string' || !URL.canParse(document.jwks_uri)) throw new Error(`${url} has no jwks_uri`);
    return document.jwks_uri;
  }
  throw new Error(`no metadata document (${tried.join(', ')})`);
}
