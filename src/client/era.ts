import type { VersionNegotiationOptions } from '@modelcontextprotocol/client';

/** The stateless revision: no initialize, no session, no GET stream, no Last-Event-ID. */
export const MODERN_REVISION = '2026-07-28';

/**
 * Which MCP era a client speaks: `legacy` is the 2025 initialize handshake and its session,
 * `modern` pins 2026-07-28, `auto` probes with `server/discover` and falls back to `legacy` when
 * the server shows no sign of the modern era.
 */
export type Era = 'legacy' | 'modern' | 'auto';

export const ERAS: readonly Era[] = ['legacy', 'modern', 'auto'];

/** The SDK Client's `versionNegotiation` option for `era`. */
export function versionNegotiation(era: Era): VersionNegotiationOptions {
  if (era === 'modern') return { mode: { pin: MODERN_REVISION } };
  return { mode: era };
}

/** Revisions are dates, so they order as strings: everything from 2026-07-28 on is stateless. */
export const isModernRevision = (version: string | undefined): boolean => version !== undefined && version >= MODERN_REVISION;
