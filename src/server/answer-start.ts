import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerConfig } from '../config.js';
import { discardBoundsOf, holdEarlyAnswer } from './early-answers.js';

/**
 * What every response gets before anything answers it: an answer given before the body is read
 * reaches the client whole (the rest of the body is read and dropped before the close), and it
 * names the replica that served it.
 */
export function answerStart(
  config: Pick<ServerConfig, 'maxBodyBytes' | 'bodyReadTimeoutMs' | 'replicaHeader' | 'replicaName'>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const discardBounds = discardBoundsOf(config);
  return (req, res) => {
    holdEarlyAnswer(req, res, discardBounds);
    if (config.replicaHeader) res.setHeader('X-MCP-Replica', config.replicaName);
  };
}
