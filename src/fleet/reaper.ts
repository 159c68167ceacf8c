import fs from 'node:fs';

/**
 * Every process the launcher started and has not yet seen exit. When the launching process exits
 * for any reason Node reports (normal end, process.exit, an uncaught exception), they are killed so
 * nothing is left running. Signals are the caller's business: the CLI stops the fleet on SIGINT and
 * SIGTERM, and a terminal's Ctrl-C reaches the children anyway (they share its process group).
 */
const pids = new Set<number>();
let hooked = false;

function killAll(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
}

export function track(pid: number | undefined): void {
  if (pid === undefined) return;
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
  }
  pids.add(pid);
}

export function untrack(pid: number | undefined): void {
  if (pid !== undefined) pids.delete(pid);
}

/**
 * Whether a process with this id is running. A zombie (exited, not yet reaped: an orphan whose
 * init does not reap) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: kill(0) is all there is
  }
}
