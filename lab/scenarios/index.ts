/** The chapter's scenarios with the `lab up` options each needs; shared by the lab runner and the tutorial. */
import type { LabRun } from '../lib/lab-run.js';
import type { Scenario } from '../lib/scenario.js';
import { scenario52 } from './5.2.js';
import { scenario53 } from './5.3.js';
import { scenario54 } from './5.4.js';
import { scenario55 } from './5.5.js';

/** 5.3's canary runs 45x faster than real time unless LAB_TIME_SCALE says otherwise. */
export const SCENARIOS: Record<string, { make: (run: LabRun) => Scenario; up?: string[] }> = {
  '5.2': { make: scenario52 },
  '5.3': { make: scenario53, up: ['--time-scale', process.env.LAB_TIME_SCALE ?? '45'] },
  '5.4': { make: scenario54 },
  '5.5': { make: scenario55 },
};
