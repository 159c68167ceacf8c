#!/usr/bin/env node
// The benchmark's floor: what no MCP server on this machine can beat. Bare node:http reading the
// same JSON-RPC body the others read, parsing it, and answering a canned result with the request's
// id: no MCP library, no validation, no session. initialize answers with a session id (so that
// legacy clients can run against it), a notification with 202, anything else with one canned
// tools/call result. Environment: PORT, HOST (127.0.0.1), POD_NAME.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

const replica = process.env.POD_NAME ?? 'floor';
const CALL_RESULT = { content: [{ type: 'text', text: JSON.stringify({ replica, sessionId: null }) }] };
const INITIALIZE_RESULT = { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '1.0.0' } };

function answer(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

http
  .createServer((req, res) => {
    if (req.url === '/readyz' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (req.method !== 'POST') return answer(res, 405, { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let message;
      try {
        message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
      }
      if (message?.id === undefined) return answer(res, 202, undefined);
      if (message.method === 'initialize') return answer(res, 200, { jsonrpc: '2.0', id: message.id, result: INITIALIZE_RESULT }, { 'mcp-session-id': randomUUID() });
      answer(res, 200, { jsonrpc: '2.0', id: message.id, result: CALL_RESULT });
    });
  })
  .listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
