import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRuntime, detectRuntime } from '../../../src/cli/runtime-choice.js';

describe('--runtime', () => {
  const saved = { DOCKER_HOST: process.env.DOCKER_HOST, LAB_RUNTIME: process.env.LAB_RUNTIME };
  beforeEach(() => {
    // An engine that cannot answer: a socket path that does not exist.
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    delete process.env.LAB_RUNTIME;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('defaults to local, or to $LAB_RUNTIME', () => {
    expect(defaultRuntime()).toBe('local');
    process.env.LAB_RUNTIME = 'docker';
    expect(defaultRuntime()).toBe('docker');
  });

  it('auto falls back to local processes and says why', async () => {
    const r = await detectRuntime('auto');
    expect(r.name).toBe('local');
    expect(r.reason).toMatch(/^auto: no Docker engine at unix:\/\/\/nonexistent\/docker.sock, so local processes$/);
  });

  it('docker without an engine is a usage error naming what is missing', async () => {
    await expect(detectRuntime('docker')).rejects.toThrow(/--runtime docker: no Docker engine at .*; start Docker \(dockerd\) or use --runtime local/);
  });

  it('refuses anything else', async () => {
    await expect(detectRuntime('podman')).rejects.toThrow(/--runtime must be auto, local or docker, got "podman"/);
  });
});
