/**
 * The learner's answers, a line at a time, and Ctrl-C as an event the tutorial handles (leave the
 * lab in a known state, say how to resume) instead of a dead process.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export class Prompt {
  private readonly rl: Interface | undefined;
  private readonly lines: string[] = [];
  private waiter: { resolve: (l: string) => void; reject: (e: Error) => void } | undefined;
  private closed = false;
  interrupted = false;
  private readonly onSigint = () => this.interrupt();

  /** `input` null: nothing is asked (`--yes`), only Ctrl-C is listened for. */
  constructor(input: Readable | null = process.stdin) {
    process.on('SIGINT', this.onSigint);
    if (!input) {
      this.rl = undefined;
      this.closed = true;
      return;
    }
    // terminal: false keeps the terminal's own line editing and lets Ctrl-C reach us as SIGINT.
    this.rl = createInterface({ input, terminal: false });
    this.rl.on('line', (l) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(l);
      } else this.lines.push(l);
    });
    // End of input (a closed pipe, Ctrl-D) leaves as q does.
    this.rl.on('close', () => {
      this.closed = true;
      if (this.waiter) {
        this.interrupted = true;
        this.waiter.reject(new Interrupted());
        this.waiter = undefined;
      }
    });
  }

  /** First Ctrl-C: stop at the next safe point. A second one: leave now. */
  private interrupt(): void {
    if (this.interrupted) process.exit(130);
    this.interrupted = true;
    this.waiter?.reject(new Interrupted());
    this.waiter = undefined;
  }

  /** q: leave as Ctrl-C does (the lab stopped, where to resume said). */
  quit(): never {
    this.interrupted = true;
    throw new Interrupted();
  }

  throwIfInterrupted(): void {
    if (this.interrupted) throw new Interrupted();
  }

  async ask(question: string): Promise<string> {
    this.throwIfInterrupted();
    process.stdout.write(`${question} `);
    const queued = this.lines.shift();
    if (queued !== undefined) return queued.trim().toLowerCase();
    if (this.closed) this.quit();
    const line = await new Promise<string>((resolve, reject) => (this.waiter = { resolve, reject }));
    return line.trim().toLowerCase();
  }

  close(): void {
    process.off('SIGINT', this.onSigint);
    this.rl?.close();
  }
}
