/**
 * V8 flags for proxy processes. A 4 MB young generation (Node 20's default lets it grow to 16 MB
 * per semi-space) cuts a loaded sidecar's peak RSS from about 84 MB to 65 MB at the same
 * throughput: measured with a closed loop of 32 connections, 8.5-10.0k req/s either way.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
