/** Scrapes of every proxy over time, and picking the one a window starts at. */
import type { PromSample } from '../metrics/prometheus-text.js';

export interface Scrape {
  at: number;
  samples: PromSample[];
}

/** The scrape that starts a window ending now: the newest one at least `windowMs` old, else none. */
export function windowStart(history: readonly Scrape[], now: number, windowMs: number): Scrape | undefined {
  let found: Scrape | undefined;
  for (const s of history) if (s.at <= now - windowMs) found = s;
  return found;
}
