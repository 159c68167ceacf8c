// Server-Sent Events as the MCP Streamable HTTP transport sends them: `event: message` frames with
// an `id:` and one JSON-RPC message in `data:`, a priming frame with an id and empty data, and
// `retry:` hints.
//
// The files in loadtest/lib run under k6 (goja) as they are, and under Node for the tests: ES2017
// modules, no Node APIs, no optional chaining, `??`, object spread or class fields.

/** Splits an SSE body into frames: { id, event, retry, data } (comment-only blocks dropped). */
export function parseSse(text) {
  const frames = [];
  const blocks = String(text).replace(/\r\n?/g, '\n').split('\n\n');
  for (const block of blocks) {
    const frame = { id: undefined, event: undefined, retry: undefined, data: '' };
    const data = [];
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line === '' || line.charAt(0) === ':') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.charAt(0) === ' ') value = value.slice(1);
      fields++;
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'retry') frame.retry = Number(value);
      else if (field === 'data') data.push(value);
    }
    if (fields === 0) continue;
    frame.data = data.join('\n');
    frames.push(frame);
  }
  return frames;
}

/** The JSON-RPC messages in SSE frames (priming and retry-only frames carry none). */
export function sseMessages(frames) {
  return frames.filter((frame) => frame.data !== '').map((frame) => JSON.parse(frame.data));
}

/** The id of the last frame that had one: where a reconnection resumes (Last-Event-ID). */
export function lastEventId(frames) {
  for (let i = frames.length - 1; i >= 0; i--) {
    if (frames[i].id !== undefined && frames[i].id !== '') return frames[i].id;
  }
  return undefined;
}
