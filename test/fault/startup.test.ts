import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { deployForFaults, type FaultDeployment, LEASE, ROLE_NAMES } from './deployment.js';

/*
 * Every role of a split deployment started while its Postgres is down (a node reboot, a
 * database that comes up after the pods): none may exit or crash-loop; each says once that it
 * waits, and comes up when the database does (migrating it, one process at a time).
 */

let deployment: (FaultDeployment & { ready: Promise<void>[] }) | undefined;
afterAll(() => deployment?.stop(), 120_000);

const WAITING = 'database unreachable; waiting for it';

it('every role started while Postgres is down waits for it with one clear line, then serves', async () => {
  deployment = await deployForFaults({ databaseDown: true });
  const roles = [...deployment.roles.values()];
  expect(roles.map((role) => role.name).sort()).toEqual([...ROLE_NAMES].sort());
  await eventually(
    () =>
      expect(roles.filter((role) => !role.logs().some((line) => line.msg === WAITING))).toEqual([]),
    120_000,
  );
  // Still waiting a while later: no exit, no restart loop, no stack trace.
  await sleep(5_000);
  expect(roles.filter((role) => role.exit() !== undefined).map((role) => role.name)).toEqual([]);

  const upAt = Date.now();
  await deployment.postgres.start();
  await Promise.all(deployment.ready);
  console.log(
    `every role ready ${((Date.now() - upAt) / 1000).toFixed(1)} s after Postgres started`,
  );

  for (const role of roles) {
    expect(role.exit(), role.name).toBeUndefined();
    expect(role.stderr(), role.name).toBe('');
    const messages = role.logs().map((line) => line.msg);
    expect(
      messages.filter((msg) => msg === WAITING),
      role.name,
    ).toHaveLength(1);
    expect(messages, role.name).toContain('database reachable; starting');
    expect(
      role.logs().filter((line) => line.level >= 50),
      role.name,
    ).toEqual([]);
  }

  // And they work: a controller leads, the device API registers, the receiver answers.
  const lease = await eventually(async () => {
    const found = await deployment?.get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${LEASE.namespace}/leases/${LEASE.name}`,
    );
    expect(found?.spec.holderIdentity).toMatch(/^controller-/);
    return found;
  }, 60_000);
  expect(lease?.spec.holderIdentity).toBeDefined();
  const simulator = await deployment.simulate(5, 'ghcr.io/acme/app:v0');
  await eventually(
    () => expect(simulator.devices().filter((device) => device.reports > 0)).toHaveLength(5),
    60_000,
  );
  expect((await deployment.push('v1', `sha256:${'1'.repeat(64)}`)).status).toBe(200);
  expect(await deployment.query('select 1 as one')).toEqual([{ one: 1 }]);
}, 400_000);
