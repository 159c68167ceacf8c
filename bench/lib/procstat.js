// CPU time and resident memory of processes, from /proc (Linux).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticks;
/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
function clockTicks() {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of `pid` (all its threads) in µs; NaN when the process is gone. */
export function cpuMicros(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks();
  } catch {
    return NaN;
  }
}

/** The summed CPU µs of `pids`. */
export const totalCpuMicros = (pids) => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);

/** Resident set size of `pid` in bytes; NaN when the process is gone. */
export function rssBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
