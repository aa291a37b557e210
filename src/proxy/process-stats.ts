/**
 * The proxy's own memory and open file descriptors, served with its counters on the admin
 * endpoint's `/stats` (as Envoy serves `server.memory_*`). A soak test reads them there: the
 * endpoint is reachable on both runtimes, where the host's /proc does not name a container's
 * processes the same way.
 */
import { readdirSync } from 'node:fs';

export interface ProcessStats {
  process_resident_memory_bytes: number;
  process_heap_used_bytes: number;
  process_heap_total_bytes: number;
  process_external_bytes: number;
  /** Absent where the platform has no per-process fd directory. */
  process_open_fds?: number;
}

const FD_DIR = process.platform === 'linux' ? '/proc/self/fd' : '/dev/fd';

/** Descriptors open now, without the one the listing itself holds while it reads the directory. */
function openFds(): number | undefined {
  try {
    return readdirSync(FD_DIR).length - 1;
  } catch {
    return undefined;
  }
}

export function processStats(): ProcessStats {
  const m = process.memoryUsage();
  const stats: ProcessStats = {
    process_resident_memory_bytes: m.rss,
    process_heap_used_bytes: m.heapUsed,
    process_heap_total_bytes: m.heapTotal,
    process_external_bytes: m.external,
  };
  const fds = openFds();
  if (fds !== undefined) stats.process_open_fds = fds;
  return stats;
}
