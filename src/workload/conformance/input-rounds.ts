import { inputRequired, inputResponse } from '@modelcontextprotocol/server';
import type {
  CallToolResult,
  ClientCapabilities,
  InputRequest,
  InputRequests,
  InputRequiredResult,
  InputResponseView,
  McpServer,
  ServerContext,
} from '@modelcontextprotocol/server';
import type { WorkloadContext } from '../types.js';

/*
 * Multi round-trip input for the conformance fixtures, written once for both eras: a 2026-07-28
 * client answers the input_required result and retries (on any replica); on a 2025 session the
 * SDK's shim sends each embedded request to the client and calls the handler again with the
 * answers. What a handler must remember between rounds travels in the requestState, sealed with
 * the fleet's keys and tagged with the handler's name (the seal binds it to the method only).
 */

/** A round that remembers something: its requestState. */
export interface Round<T extends object> {
  /** The fixture (tool or prompt) the state belongs to. */
  owner: string;
  /** What this round remembers of the earlier ones. */
  memory: T;
}

/** An input_required result asking for `inputRequests`; with `round`, its requestState seals `round.memory`. */
export async function ask<T extends object>(
  ctx: WorkloadContext,
  request: ServerContext,
  inputRequests: InputRequests,
  round?: Round<T>,
): Promise<InputRequiredResult> {
  const requestState = round === undefined ? undefined : await ctx.requestState.mint({ owner: round.owner, memory: round.memory }, request);
  return inputRequired({ inputRequests, ...(requestState === undefined ? {} : { requestState }) });
}

/** The memory `owner` sealed in the round this request answers; undefined on a first call (or another fixture's state). */
export function recall<T extends object>(request: ServerContext, owner: string): T | undefined {
  const state = request.mcpReq.requestState<{ owner?: unknown; memory?: T }>();
  return state?.owner === owner ? state.memory : undefined;
}

/** The client's answer to the input request `key` of the previous round. */
export function answer(request: ServerContext, key: string): InputResponseView {
  return inputResponse(request.mcpReq.inputResponses, key);
}

/** The accepted elicitation's string field `field`, if the client answered `key` with one. */
export function acceptedText(request: ServerContext, key: string, field: string): string | undefined {
  const view = answer(request, key);
  const value = view.kind === 'elicit' && view.action === 'accept' ? view.content?.[field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The text the client's LLM answered `key` with. */
export function sampledText(request: ServerContext, key: string): string | undefined {
  const view = answer(request, key);
  if (view.kind !== 'sampling') return undefined;
  const content = Array.isArray(view.result.content) ? view.result.content[0] : view.result.content;
  return content?.type === 'text' ? content.text : `[${content?.type ?? 'empty'}]`;
}

/** The URIs of the roots the client answered `key` with. */
export function rootUris(request: ServerContext, key: string): string[] | undefined {
  const view = answer(request, key);
  return view.kind === 'roots' ? view.roots.map((root) => root.uri) : undefined;
}

/**
 * One question to the client under the key `tool`, in a round sealed to `tool`: the answer is
 * taken only from the retry of that round (`reply` returns undefined while it is not there). A
 * client that cannot answer is refused by the SDK: an error result on a 2025 session, -32021 on a
 * 2026-07-28 request.
 */
export async function askOnce(
  ctx: WorkloadContext,
  request: ServerContext,
  tool: string,
  question: InputRequest,
  reply: (retry: ServerContext) => CallToolResult | undefined,
): Promise<CallToolResult | InputRequiredResult> {
  const done = recall(request, tool) === undefined ? undefined : reply(request);
  return done ?? ask(ctx, request, { [tool]: question }, { owner: tool, memory: {} });
}

/**
 * What the client declared it can do: a 2026-07-28 request carries its capabilities in `_meta`;
 * a 2025 session declared them at initialize (the fleet replays them when it rebuilds a session).
 */
export function declaredCapabilities(server: McpServer, ctx: WorkloadContext, request: ServerContext): ClientCapabilities {
  if (ctx.era === 'modern') {
    const envelope = request.mcpReq.envelope as Record<string, unknown> | undefined;
    return (envelope?.['io.modelcontextprotocol/clientCapabilities'] ?? {}) as ClientCapabilities;
  }
  return server.server.getClientCapabilities() ?? {};
}
