/**
 * `lab tutorial 5.2|5.3|5.4|5.5|all` (also `npm run tutorial:5.2 -- ...`): the chapter as a course.
 */
import { parseArgs } from 'node:util';
import { SCENARIOS } from '../scenarios/index.js';
import { LANGS, langFromLocale, type Lang } from './content.js';
import { Tutorial, runForListing } from './runner.js';

export const TUTORIAL_HELP = `Usage: lab tutorial 5.2|5.3|5.4|5.5|all [options]

Walks the chapter's steps one at a time: the idea behind each step, the manifest (its change
from the previous one marked), the command as the book types it and as the lab runs it, the
outcome (the v1/v2 split, the access log line read field by field), then the check.

At each step: Enter watches it (the tutorial runs the commands), d lets you do it yourself in
another shell (the tutorial prints the export LAB_HOME=... line for that shell, waits for Enter,
then checks the lab's state and traffic, and names the likely cause if the check fails), q quits.

The tutorial starts a lab of its own for each section (a temporary LAB_HOME on a free ingress
port) and stops it at the end, on q and on Ctrl-C, printing how to resume.

Options:
  --step N          start at step N (the chapter's numbering: 1-11, 12-19, 20-21b, 22-24);
                    the earlier steps' commands set the lab up first
  --yes             run every step without pausing (CI); exits 1 if a check fails
  --lang ko|en      language of the texts (default: from LC_ALL/LC_MESSAGES/LANG, else en)
  --keep            leave the lab running at the end (the last section's), on a failed check
                    and on Ctrl-C; stop it with LAB_HOME=... lab down
  --seed N          the proxies' seed (default 7)
  --runtime R       local (default, or $LAB_RUNTIME), docker or auto, as for lab up`;

export async function tutorial(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      step: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      lang: { type: 'string' },
      keep: { type: 'boolean' },
      seed: { type: 'string', default: '7' },
      runtime: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(TUTORIAL_HELP);
    return 0;
  }
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(SCENARIOS) : positionals;
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length > 0) {
    console.error(`lab tutorial: unknown section ${unknown.join(', ')}; available: ${Object.keys(SCENARIOS).join(', ')}, all`);
    return 2;
  }
  const lang = (values.lang ?? langFromLocale()) as Lang;
  if (!LANGS.includes(lang)) {
    console.error(`lab tutorial: --lang ${values.lang}: available ${LANGS.join(', ')}`);
    return 2;
  }
  if (values.step !== undefined) {
    const ids = names.flatMap((n) => SCENARIOS[n]!.make(runForListing()).steps.map((st) => st.id));
    if (!ids.includes(values.step)) {
      console.error(`lab tutorial: --step ${values.step}: no such step in ${names.join(', ')}; steps: ${ids.join(', ')}`);
      return 2;
    }
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) {
    console.error(`lab tutorial: --seed ${values.seed}: not an integer`);
    return 2;
  }
  return new Tutorial({ names, lang, yes: Boolean(values.yes), step: values.step, keep: Boolean(values.keep), seed, runtime: values.runtime }).start();
}

// Run directly (`node dist/lab/tutorial/main.js 5.2`), as the npm scripts do.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) process.exitCode = await tutorial(process.argv.slice(2));
