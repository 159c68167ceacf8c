/**
 * Fixed content the MCP conformance suite asks for. The texts are the ones the suite's scenario
 * descriptions give; the media are the smallest valid files of their kind.
 */

/** A 1x1 red pixel, 8-bit RGB PNG (69 bytes). */
export const RED_PIXEL_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** One millisecond of silence: 8 kHz mono 16-bit PCM WAV, 8 samples (60 bytes). */
export const SILENT_WAV_BASE64 = 'UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA';

export const URIS = {
  staticText: 'test://static-text',
  staticBinary: 'test://static-binary',
  watched: 'test://watched-resource',
  template: 'test://template/{id}/data',
  embedded: 'test://embedded-resource',
  mixedContent: 'test://mixed-content-resource',
} as const;

export const TEXTS = {
  simpleTool: 'This is a simple text response for testing.',
  embeddedResource: 'This is an embedded resource content.',
  mixedIntro: 'Multiple content types test:',
  toolError: 'This tool intentionally returns an error for testing',
  staticResource: 'This is the content of the static text resource.',
  simplePrompt: 'This is a simple prompt for testing.',
  promptEmbeddedResource: 'Embedded resource content for testing.',
  promptEmbeddedFollowUp: 'Please process the embedded resource above.',
  promptImageFollowUp: 'Please analyze the image above.',
} as const;

/** Keys this workload keeps in the fleet's shared state. */
export const SHARED_KEYS = {
  watchedVersion: 'conformance:watched-resource:version',
} as const;

/** Suggestions offered by completion/complete for prompt argument `arg1`. */
export const ARG1_SUGGESTIONS = ['paris', 'park', 'party', 'test-alpha', 'test-beta', 'testing'] as const;

/** Suggestions offered by completion/complete for the `id` variable of the template resource. */
export const TEMPLATE_ID_SUGGESTIONS = ['1', '2', '3', '42', '123'] as const;

/** Case-insensitive prefix match, in the order the candidates are given. */
export function completeFrom(candidates: readonly string[], prefix: string): string[] {
  const wanted = prefix.toLowerCase();
  return candidates.filter((candidate) => candidate.toLowerCase().startsWith(wanted));
}
