import { writeFileSync } from 'node:fs';
import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import { verifyOffline } from '../../verify/offline.js';
import { junitReport, textReport } from '../../verify/report.js';
import { passed, type ScenarioResult } from '../../verify/result.js';
import { loadScenario, type Scenario } from '../../verify/scenario.js';

export const VERIFY_USAGE = `Usage: lab verify SCENARIO.yaml [SCENARIO.yaml ...] [--live] [--junit FILE] [-o json]

Checks that manifests route the way a scenario file says (format: schemas/verify-scenario.schema.json
in the package; examples in examples/verify/). By default offline: the manifests are compiled into
the tables the proxies would get and each request is decided on its sender's table (no processes,
deterministic, milliseconds). --live sends the same requests through a running lab (LAB_HOME) after
applying the manifests; with no lab running, one is started in a temporary LAB_HOME and stopped.
  --junit FILE   also write a JUnit XML report (one testsuite per scenario)
  --runtime R    with --live and no running lab: local (default) or docker
Exit codes: 0 every case passed, 1 some case failed or a scenario's manifests are invalid,
2 usage error or an invalid scenario file.`;

export async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { live: { type: 'boolean' }, junit: { type: 'string' }, output: { type: 'string', short: 'o' }, runtime: { type: 'string' } },
    VERIFY_USAGE,
  );
  if (values.help) {
    console.log(VERIFY_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new LabError('LAB_ERR_USAGE', `verify needs a scenario file\n\n${VERIFY_USAGE}`);
  const output = values.output as string | undefined;
  if (output !== undefined && output !== 'json') throw new LabError('LAB_ERR_USAGE', `-o must be json, got "${output}"`);
  const scenarios: Scenario[] = positionals.map(loadScenario);
  let results: ScenarioResult[];
  if (values.live) {
    const { verifyLive } = await import('../../verify/live.js');
    results = await verifyLive(scenarios, { runtime: values.runtime as string | undefined });
  } else {
    if (values.runtime !== undefined) throw new LabError('LAB_ERR_USAGE', '--runtime needs --live');
    results = scenarios.map(verifyOffline);
  }
  if (values.junit) writeFileSync(values.junit as string, junitReport(results));
  if (output === 'json') {
    console.log(
      JSON.stringify(
        results.map((r) => ({ file: r.scenario.file, scenario: r.scenario.title, mode: r.mode, passed: passed(r), setupError: r.setupError, ms: r.ms, cases: r.cases })),
        null,
        2,
      ),
    );
  } else {
    console.log(textReport(results));
  }
  return results.every(passed) ? 0 : 1;
}
