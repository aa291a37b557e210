/** `lab verify` output: a readable report and JUnit XML (one testsuite per scenario, a testcase per case). */
import type { ScenarioResult } from './result.js';

export function textReport(results: ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`${r.scenario.file}: ${r.scenario.title} (${r.mode}, ${fmtMs(r.ms)})`);
    if (r.setupError) {
      out.push(`  ERROR ${r.setupError.replace(/\n/g, '\n        ')}`);
      continue;
    }
    for (const c of r.cases) {
      out.push(`  ${c.ok ? 'PASS' : 'FAIL'} ${c.name}${c.observed ? `: ${c.observed}` : ''}`);
      for (const f of c.failures) out.push(`       - ${f}`);
    }
  }
  const cases = results.flatMap((r) => r.cases);
  const failed = cases.filter((c) => !c.ok).length;
  const broken = results.filter((r) => r.setupError).length;
  out.push(
    `${results.length} scenario${results.length === 1 ? '' : 's'}, ${cases.length} case${cases.length === 1 ? '' : 's'}: ${cases.length - failed} passed, ${failed} failed${broken ? `, ${broken} scenario${broken === 1 ? '' : 's'} could not run` : ''}`,
  );
  return out.join('\n');
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function xmlEscape(s: string): string {
  // XML 1.0 cannot carry most control characters even escaped: drop them.
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function junitReport(results: ScenarioResult[]): string {
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const suites = results.map((r) => {
    const name = `${r.scenario.title} (${r.mode})`;
    const attrs = `name="${xmlEscape(name)}" file="${xmlEscape(r.scenario.file)}" time="${secs(r.ms)}"`;
    if (r.setupError) {
      return `  <testsuite ${attrs} tests="1" failures="0" errors="1">\n    <testcase name="manifests" classname="${xmlEscape(name)}" time="0.000">\n      <error message="${xmlEscape(r.setupError.split('\n')[0]!)}">${xmlEscape(r.setupError)}</error>\n    </testcase>\n  </testsuite>`;
    }
    const failures = r.cases.filter((c) => !c.ok).length;
    const cases = r.cases.map((c) => {
      const head = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(name)}" time="${secs(c.ms)}"${c.line ? ` file="${xmlEscape(r.scenario.file)}" line="${c.line}"` : ''}>`;
      const body = c.ok
        ? ''
        : `\n      <failure message="${xmlEscape(c.failures[0] ?? 'failed')}">${xmlEscape(c.failures.join('\n'))}</failure>`;
      const sysout = c.observed ? `\n      <system-out>${xmlEscape(c.observed)}</system-out>` : '';
      return `${head}${body}${sysout}\n    </testcase>`;
    });
    return `  <testsuite ${attrs} tests="${r.cases.length}" failures="${failures}" errors="0">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const all = results.flatMap((r) => r.cases);
  const failures = all.filter((c) => !c.ok).length;
  const errors = results.filter((r) => r.setupError).length;
  const total = results.reduce((a, r) => a + r.ms, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="lab verify" tests="${all.length + errors}" failures="${failures}" errors="${errors}" time="${secs(total)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
