import { readFileSync } from 'node:fs';

// Linux reports a process's CPU time in clock ticks of 1/100 s (USER_HZ, 100 on every common build).
const MILLISECONDS_PER_TICK = 10;

/**
 * CPU time (user + system, all threads) a process has used so far, in milliseconds; undefined where
 * /proc is missing (not Linux). Divided by the requests answered meanwhile, it gives a server's CPU cost per
 * request, which the machine's background load moves far less than throughput.
 */
export function readProcessCpuMilliseconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields of the line.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MILLISECONDS_PER_TICK;
  } catch {
    return undefined;
  }
}
