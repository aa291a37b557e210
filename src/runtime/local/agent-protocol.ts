/** What the node agent and the control plane say to each other, and where the agent is found. */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerExit } from '../types.js';

export interface AgentInfo {
  pid: number;
  url: string;
  startedAt: string;
}

export interface AgentPod {
  name: string;
  namespace: string;
  record: string;
}

/** A container exit, for the pod `key` (`namespace/name`). */
export type AgentEvent = ContainerExit & { key: string };

export const agentInfoFile = (home: string) => join(home, 'agent.json');

export function readAgentInfo(home: string): AgentInfo | undefined {
  const file = agentInfoFile(home);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AgentInfo;
  } catch {
    return undefined;
  }
}

export function writeAgentInfo(home: string, info: AgentInfo): void {
  mkdirSync(home, { recursive: true });
  const tmp = `${agentInfoFile(home)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2));
  renameSync(tmp, agentInfoFile(home));
}

/** Removes agent.json if it still names this agent. */
export function removeAgentInfo(home: string, pid: number): void {
  if (readAgentInfo(home)?.pid === pid) rmSync(agentInfoFile(home), { force: true });
}
