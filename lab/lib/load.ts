import { dim } from './scenario.js';
import { curlLine, http, type HttpOptions, type HttpResult } from './http.js';

/**
 * Steady background traffic, as the book's `while true; do curl ...; sleep 1; done`. Bounded: it
 * stops when told, or after `maxMs` at the latest.
 */
export class SteadyLoad {
  private stopped = false;
  private readonly done: Promise<void>;
  readonly results: HttpResult[] = [];

  constructor(url: string, o: HttpOptions, everyMs = 50, maxMs = 120_000) {
    console.log(dim(`    $ while true; do ${curlLine(url, o)}; sleep ${everyMs / 1000}; done &`));
    const deadline = Date.now() + maxMs;
    this.done = (async () => {
      while (!this.stopped && Date.now() < deadline) {
        this.results.push(await http(url, { ...o, print: false }));
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
