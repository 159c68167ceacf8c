/** How many cases a run sends when nothing says otherwise: what the suite (CI) runs. */
export const CI_CASES = 3000;

export interface FuzzSettings {
  cases: number;
  seed: number;
  path: string | undefined;
  keepGoing: boolean;
  progressEvery: number;
  timeoutMs: number;
  logDir: string | undefined;
}

function whole(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number (got ${JSON.stringify(value)})`);
  return Number(value);
}

/** FUZZ_CASES, FUZZ_SEED (a random one when unset, printed to replay), FUZZ_PATH, FUZZ_KEEP_GOING, FUZZ_LOG_DIR. */
export function fuzzSettings(env: Record<string, string | undefined>): FuzzSettings {
  const cases = whole('FUZZ_CASES', env.FUZZ_CASES, CI_CASES);
  if (cases < 1) throw new Error('FUZZ_CASES must be at least 1');
  return {
    cases,
    seed: whole('FUZZ_SEED', env.FUZZ_SEED, Math.floor(Math.random() * 2 ** 31)),
    path: env.FUZZ_PATH || undefined,
    keepGoing: ['1', 'true', 'yes'].includes((env.FUZZ_KEEP_GOING ?? '').toLowerCase()),
    progressEvery: Math.max(100, Math.round(cases / 10)),
    // Starting and stopping the fleet, the cases (a hang costs 15 s), shrinking a failure.
    timeoutMs: 120_000 + cases * 100,
    // Kept replica logs, at debug level: why a replica answered as it did.
    logDir: env.FUZZ_LOG_DIR || undefined,
  };
}
