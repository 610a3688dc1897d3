import { appendFileSync } from 'node:fs';
import { differences } from './normalize.js';
import type { Entry } from './steps.js';

/** The running totals of the corpus and the differences that fail it. */
export interface Tally {
  requests: number;
  identical: number;
  documented: number;
  /** Ids of documented differences that occurred. */
  seen: Set<string>;
  /** One line per request that differs without a documented id (or names an unknown one). */
  failures: string[];
}

/** An empty tally. */
export function newTally(): Tally {
  return { requests: 0, identical: 0, documented: 0, seen: new Set(), failures: [] };
}

/**
 * Compares the entries of one step on both servers, paired by name, and counts them. An entry
 * that names a documented difference must differ; one that names none must be identical.
 */
export function compareEntries(
  step: string,
  real: Entry[],
  local: Entry[],
  known: Set<string>,
  tally: Tally,
): void {
  const names = [...new Set([...real, ...local].map((entry) => entry.name))];
  for (const name of names) {
    const a = real.find((entry) => entry.name === name);
    const b = local.find((entry) => entry.name === name);
    const expected = a?.expected ?? b?.expected;
    const found = differences(a?.value, b?.value);
    const label = step.endsWith(` › ${name}`) ? step : `${step} › ${name}`;
    tally.requests += 1;
    if (expected !== undefined && !known.has(expected)) {
      tally.failures.push(`${label}: names "${expected}", which is not documented`);
    } else if (found.length === 0 && expected === undefined) {
      tally.identical += 1;
    } else if (found.length === 0) {
      tally.failures.push(`${label}: expected difference ${expected} no longer occurs`);
    } else if (expected !== undefined) {
      tally.documented += 1;
      tally.seen.add(expected);
    } else {
      tally.failures.push(`${label}:\n    ${found.join('\n    ')}`);
    }
    // FIDELITY_DEBUG=<file> appends both whole answers of every differing request, for triage.
    if (found.length > 0 && process.env.FIDELITY_DEBUG) {
      const record = { label, real: a?.value, local: b?.value };
      appendFileSync(process.env.FIDELITY_DEBUG, `${JSON.stringify(record, null, 1)}\n`);
    }
  }
}
