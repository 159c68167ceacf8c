import fs from 'node:fs';

/**
 * Every process the launcher started and has not yet seen exit, and its temporary folders. When
 * the launching process exits for any reason Node reports (normal end, process.exit, an uncaught
 * exception), the processes are killed and the folders removed, so nothing is left behind. Signals
 * are the caller's business: the CLI stops the fleet on SIGINT and SIGTERM (its processes are in
 * groups of their own, so a terminal's Ctrl-C reaches the CLI alone).
 */
const pids = new Set<number>();
/** Temporary folders removed on the same occasions. */
const dirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    killAll();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    dirs.clear();
  });
}

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
  hook();
  pids.add(pid);
}

/** Removes `dir` when this process exits, unless untrackDir was called first. */
export function trackDir(dir: string): void {
  hook();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
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
