// The order scenarios run in, round by round. The machine's load drifts (it is shared), so each
// mcp-fleet scenario runs next to the references it is compared with; the groups rotate from
// round to round, and within a group the order flips every other round, so neither side of a
// ratio always runs first.

/** The comparison group of a scenario: the mcp-fleet setup and era it belongs with. */
export function groupOf(scenario) {
  if (scenario.impl === 'sdk') return `${scenario.setup.endsWith('-3-lb') ? 'redis-3-lb' : 'memory-1'}/modern`;
  // The floor runs next to the setups of as many replicas: its 3-replica run with the fleet's.
  if (scenario.impl === 'floor') return `${scenario.setup.endsWith('-3-lb') ? 'redis-3-lb' : 'memory-1'}/${scenario.era}`;
  return `${scenario.setup}/${scenario.era}`;
}

/** The scenarios of round `round` (0-based), in the order they run. */
export function roundOrder(scenarios, round) {
  const groups = new Map();
  for (const scenario of scenarios) {
    const key = groupOf(scenario);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(scenario);
  }
  const list = [...groups.values()];
  const shift = round % list.length;
  const rotated = [...list.slice(shift), ...list.slice(0, shift)];
  return rotated.flatMap((group) => (round % 2 === 1 ? [...group].reverse() : group));
}
