import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { declaredBodyLength } from './http-guards.js';
import { ErrorCode, sendJsonRpcError } from './jsonrpc.js';

/** A failure while serving a request, as body-parser (and Express, for anything thrown) gives it. */
export interface RequestError extends Error {
  type?: string;
  status?: number;
}

export function answerTooLarge(res: ServerResponse, maxBodyBytes: number): void {
  sendJsonRpcError(res, 413, ErrorCode.ServerError, `Payload Too Large: the body exceeds ${maxBodyBytes} bytes`);
}

/**
 * How a failure is answered: a body over the limit 413, an encoding or charset the parser does not
 * know 415, a body its client gave up on by destroying the connection, anything else 400 (or the
 * failure's own 4xx) with a parse error.
 */
export function answerRequestError(res: ServerResponse, error: RequestError, maxBodyBytes: number): void {
  if (error.type === 'entity.too.large') {
    answerTooLarge(res, maxBodyBytes);
  } else if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
    sendJsonRpcError(res, 415, ErrorCode.ServerError, `Unsupported Media Type: ${error.message}`);
  } else if (error.type === 'request.aborted') {
    res.destroy();
  } else {
    sendJsonRpcError(res, error.status && error.status < 500 ? error.status : 400, ErrorCode.ParseError, `Bad Request: ${error.message}`);
  }
}

/** Hands over the body (undefined when the request announces none), or answers the request itself. */
export type BodyReader = (req: IncomingMessage, res: ServerResponse, done: (body: Buffer | undefined) => void) => void;

/**
 * Reads a request body of at most `maxBytes` bytes as body-parser's raw parser does. A declared
 * length over the limit is refused before anything is read. A plain body (no Content-Encoding, a
 * request still being received) is collected here; anything else (a compressed body, a request
 * whose connection can no longer be read) goes to body-parser itself, so that its inflating and
 * its verdicts stay as they are.
 */
export function createBodyReader(maxBytes: number): BodyReader {
  const parse = express.raw({ type: () => true, limit: maxBytes });
  return (req, res, done) => {
    // Refused unread (the body would otherwise be read first, however long), then read and
    // dropped only within the bounds of the early answer.
    if ((declaredBodyLength(req) ?? 0) > maxBytes) return answerTooLarge(res, maxBytes);
    if (isPlainBody(req)) return collect(req, res, maxBytes, done);
    parse(req as express.Request, res as express.Response, (error?: unknown) => {
      if (error) return answerRequestError(res, error as RequestError, maxBytes);
      const { body } = req as { body?: unknown };
      done(Buffer.isBuffer(body) ? body : undefined);
    });
  };
}

/**
 * A body that body-parser would read straight from the request: one announced (type-is's
 * hasBody), not encoded, on a request that is not finished (on-finished's isFinished) and can be read.
 */
function isPlainBody(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'] || 'identity';
  if (encoding.toLowerCase() !== 'identity') return false;
  if (req.headers['transfer-encoding'] === undefined && Number.isNaN(Number(req.headers['content-length']))) return false;
  return req.readable && (req as { upgrade?: boolean }).upgrade !== true && req.socket?.readable === true;
}

function collect(req: IncomingMessage, res: ServerResponse, maxBytes: number, done: (body: Buffer) => void): void {
  const declared = req.headers['content-length'];
  const length = declared !== undefined && !Number.isNaN(Number(declared)) ? parseInt(declared, 10) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  const stop = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onAbort);
    req.off('close', onAbort);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= maxBytes) return void chunks.push(chunk);
    // Answered now: the early answer reads and drops the rest within its bounds.
    stop();
    answerTooLarge(res, maxBytes);
  };
  const onEnd = () => {
    stop();
    if (length !== undefined && received !== length) {
      return answerRequestError(
        res,
        { name: 'BadRequestError', message: 'request size did not match content length', type: 'request.size.invalid', status: 400 },
        maxBytes,
      );
    }
    done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
  };
  // The client went away before the end of its body: nothing to answer.
  const onAbort = () => {
    stop();
    res.destroy();
  };
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('error', onAbort);
  req.once('close', onAbort);
}
