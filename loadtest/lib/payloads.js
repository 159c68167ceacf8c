// What the reference workload's tools send and answer, read in one place so a change of payload is
// one edit here (see src/workload/reference.ts).

/** Arguments of `notify`: `count` notifications/message, each carrying `message` and its index. */
export function notifyArguments(message, count) {
  return { message: message, count: count };
}

/**
 * The key (`message#index`) of a notifications/message sent by `notify`, or undefined for any other
 * message: the identity by which delivery is counted exactly once.
 */
export function notificationKey(message) {
  if (!message || message.method !== 'notifications/message' || !message.params) return undefined;
  const data = message.params.data;
  if (!data || typeof data.message !== 'string' || typeof data.index !== 'number') return undefined;
  return data.message + '#' + data.index;
}

/** The keys `notify` with these arguments sends, in order. */
export function expectedNotificationKeys(message, count) {
  const keys = [];
  for (let i = 0; i < count; i++) keys.push(message + '#' + i);
  return keys;
}

/** The JSON a reference tool returns as its first text block ({ replica, ... }), or undefined. */
export function toolJson(result) {
  if (!result || !result.content || !result.content[0] || typeof result.content[0].text !== 'string') return undefined;
  try {
    return JSON.parse(result.content[0].text);
  } catch (_error) {
    return undefined;
  }
}

/** Arguments for each tool of the sustained-load mix; `n` varies them between calls. */
export const TOOL_MIX = [
  { name: 'whoami', args: () => ({}) },
  { name: 'progress', args: () => ({ steps: 3 }) },
  { name: 'bump', args: (n) => ({ name: 'load-' + (n % 16) }) },
  { name: 'notify', args: (n) => notifyArguments('load-' + n, 1) },
];

/** The resource `bump` increments and announces: counter://{name}. */
export function counterUri(name) {
  return 'counter://' + name;
}

/** The client's answer to `sample`'s sampling/createMessage input request. */
export function samplingAnswer(text) {
  return { role: 'assistant', content: { type: 'text', text: text }, model: 'k6' };
}

/**
 * A requestState with one character in its middle changed (never the last one, whose low bits a
 * base64 decoder may ignore): what a tampering client would send back.
 */
export function tamperedState(state) {
  let at = Math.floor(state.length / 2);
  if (state.charAt(at) === '.') at++;
  const replacement = state.charAt(at) === 'A' ? 'B' : 'A';
  return state.slice(0, at) + replacement + state.slice(at + 1);
}
