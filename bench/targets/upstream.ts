/**
 * The upstream every row ends at: node:http answering any request with the same 500-byte JSON
 * document (Content-Length, keep-alive). Env: HOST, PORT.
 */
import { createServer } from 'node:http';

function body500(): Buffer {
  const items = [];
  for (let id = 1; ; id++) {
    items.push({ id, color: 'teal', department: 'Clothing', name: `Item ${id}`, price: '34.10' });
    const text = JSON.stringify({ items });
    if (text.length > 500) {
      // Pad the last name so the document is exactly 500 bytes.
      items.pop();
      const base = JSON.stringify({ items, pad: '' });
      return Buffer.from(JSON.stringify({ items, pad: 'x'.repeat(500 - base.length) }));
    }
  }
}

export const BODY = body500();

const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
  // Read (and drop) any request body before answering.
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
  res.end(BODY);
});
server.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.on('SIGTERM', () => process.exit(0));
