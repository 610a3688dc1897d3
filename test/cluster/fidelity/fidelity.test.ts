import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../cluster.js';
import { compareEntries, newTally } from './compare.js';
import { applies } from './corpus/apply.js';
import { builtins } from './corpus/builtins.js';
import { clients } from './corpus/clients.js';
import { crud } from './corpus/crud.js';
import { discovery } from './corpus/discovery.js';
import { dryRuns } from './corpus/dry-run.js';
import { kubectlCommands } from './corpus/kubectl.js';
import { lifecycle } from './corpus/lifecycle.js';
import { lists } from './corpus/lists.js';
import { patches } from './corpus/patch.js';
import { validation } from './corpus/validation.js';
import { watches } from './corpus/watch.js';
import { DIFFERENCES_FILE, documentedDifferences } from './documented.js';
import { type Endpoint, localEndpoint, realEndpoint } from './endpoints.js';
import { EXPECTED } from './expected.js';
import type { Entry, Step, Vars } from './steps.js';

const AREAS: Array<[string, Step[]]> = [
  ['discovery', discovery],
  ['create, read, replace, delete', crud],
  ['patches', patches],
  ['server-side apply', applies],
  ['field validation', validation],
  ['dry runs', dryRuns],
  ['lists', lists],
  ['watches', watches],
  ['built-in kinds', builtins],
  ['finalizers, garbage collection, namespaces', lifecycle],
  ['kubectl', kubectlCommands],
  ['clients', clients],
];

describe('the local API server answers the corpus as kube-apiserver does', () => {
  const known = documentedDifferences();
  const tally = newTally();
  let real: Endpoint;
  let local: Endpoint;

  beforeAll(async () => {
    await installCrds();
    [real, local] = await Promise.all([realEndpoint(), localEndpoint()]);
  });
  afterAll(async () => {
    await Promise.all([real?.close(), local?.close()]);
  });

  it.each(AREAS)('%s', async (area, steps) => {
    const failuresBefore = tally.failures.length;
    const vars: { real: Vars; local: Vars } = { real: {}, local: {} };
    for (const step of steps) {
      const [a, b] = await Promise.all([step.run(real, vars.real), step.run(local, vars.local)]);
      const named = (entries: Entry[]) =>
        entries.map((entry) => ({
          ...entry,
          expected: entry.expected ?? EXPECTED[`${area} › ${entry.name}`],
        }));
      compareEntries(`${area} › ${step.name}`, named(a), named(b), known, tally);
    }
    expect(tally.failures.slice(failuresBefore)).toEqual([]);
  });

  it(`has no stale entry in ${DIFFERENCES_FILE}`, () => {
    const { requests, identical, documented, failures } = tally;
    console.log(
      `${requests} requests, ${identical} identical, ${documented} documented, ${failures.length} undocumented`,
    );
    expect([...known].filter((id) => !tally.seen.has(id))).toEqual([]);
    expect(failures).toEqual([]);
  });
});
