// Counts the TCP connections a process opens to a port, to check HTTP keep-alive: sockets are
// found through /proc/<pid>/fd (socket inodes) and /proc/<pid>/net/tcp (their ports). Sampled,
// so a connection opened and closed between two samples can be missed; a steady count across
// thousands of requests is what keep-alive looks like.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed while reading
    }
  }
  return inodes;
}

/** Local ports of the process's TCP connections to 127.0.0.1:`port`. */
export function connectionsTo(pid: number, port: number): string[] {
  const inodes = socketInodes(pid);
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !inodes.has(f[9])) continue;
    if (f[2].split(':')[1] === hexPort) out.push(f[1]);
  }
  return out;
}

/** Every distinct connection seen over the samples, and the most open at once. */
export class ConnectionCounter {
  private readonly seen = new Set<string>();
  private peak = 0;

  constructor(
    private readonly pid: number,
    private readonly port: number,
  ) {}

  sample(): void {
    try {
      const now = connectionsTo(this.pid, this.port);
      now.forEach((c) => this.seen.add(c));
      this.peak = Math.max(this.peak, now.length);
    } catch {
      // the process has exited
    }
  }

  summary(): { distinct: number; peakOpen: number } {
    return { distinct: this.seen.size, peakOpen: this.peak };
  }
}
