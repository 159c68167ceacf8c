/**
 * Environment variables that look like a setting of this server but are none (a misspelt
 * REDIS_ULR is otherwise silently ignored). A name counts when it starts with one of the prefixes
 * the settings use, or is within two edits of a setting's name.
 */
export interface UnknownSetting {
  name: string;
  /** The known setting nearest to it. */
  closest: string;
}

const PREFIX_MIN_SHARED = 2;

/** Edits (insert, delete, replace, swap of two neighbours) that turn a into b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The prefixes (`REDIS_`, `SESSION_`, ...) at least PREFIX_MIN_SHARED settings share. */
function settingPrefixes(known: readonly string[]): Set<string> {
  const counts = new Map<string, number>();
  for (const name of known) {
    const cut = name.indexOf('_');
    if (cut > 0) counts.set(name.slice(0, cut + 1), (counts.get(name.slice(0, cut + 1)) ?? 0) + 1);
  }
  return new Set([...counts].filter(([, n]) => n >= PREFIX_MIN_SHARED).map(([prefix]) => prefix));
}

export function unknownSettings(env: Record<string, string | undefined>, known: readonly string[]): UnknownSetting[] {
  const knownSet = new Set(known);
  const prefixes = settingPrefixes(known);
  const found: UnknownSetting[] = [];
  for (const name of Object.keys(env).sort()) {
    if (knownSet.has(name)) continue;
    let closest = known[0] ?? '';
    let distance = Infinity;
    for (const candidate of known) {
      const d = editDistance(name, candidate);
      if (d < distance) [closest, distance] = [candidate, d];
    }
    const cut = name.indexOf('_');
    const prefixed = cut > 0 && prefixes.has(name.slice(0, cut + 1));
    // Short names (PWD, TERM) are too near too many things to judge by distance.
    if (prefixed || (distance <= 2 && closest.length >= 6)) found.push({ name, closest });
  }
  return found;
}
