import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InitializeRequest, JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/server';
import { protocolVersionOf } from '../http-guards.js';
import type { MessageDispatch } from './dispatch.js';
import type { RequestLife } from './request-life.js';
import { PRIMING_PROTOCOL_VERSION } from './response-sink.js';
import { SessionRuntime, type RuntimeDeps } from './session-runtime.js';

/**
 * The sessionless mode of the legacy leg (SESSION_MODE=stateless): no session is created or read;
 * each POST gets a server of its own, built for it and closed after it, so nothing it does can
 * need a later request (no GET stream, no DELETE, no server-to-client requests).
 */
export class Sessionless {
  constructor(
    private readonly runtimeDeps: RuntimeDeps,
    private readonly dispatch: MessageDispatch,
  ) {}

  /** Answers initialize without a session id. */
  async initialize(res: ServerResponse, request: JSONRPCRequest & InitializeRequest): Promise<void> {
    const runtime = await SessionRuntime.create(undefined, this.runtimeDeps);
    const response = await runtime.initialize(request);
    await runtime.close();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(response));
  }

  async serve(req: IncomingMessage, res: ServerResponse, life: RequestLife, messages: JSONRPCMessage[], batch: boolean): Promise<void> {
    const runtime = await SessionRuntime.create(undefined, this.runtimeDeps);
    try {
      await this.dispatch.dispatch(req, res, life, runtime, messages, batch, undefined, protocolVersionOf(req) ?? PRIMING_PROTOCOL_VERSION);
    } finally {
      await runtime.close();
    }
  }
}
