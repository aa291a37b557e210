import { Agent } from 'node:http';

/**
 * Keep-alive connection pools, one per upstream address. They survive table swaps: a push that
 * keeps an endpoint keeps its warm connections.
 */
export class UpstreamPool {
  private readonly agents = new Map<string, Agent>();

  get(address: string, port: number): Agent {
    const key = `${address}:${port}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Drops pools whose address is no longer an endpoint of any cluster. */
  retain(live: ReadonlySet<string>): void {
    for (const [key, agent] of this.agents) {
      if (!live.has(key)) {
        agent.destroy();
        this.agents.delete(key);
      }
    }
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
