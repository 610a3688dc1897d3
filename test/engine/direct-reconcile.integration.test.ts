import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directRolloutDeps, reconcileRollout } from '../../src/controller/rollout-reconciler.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';

/** reconcileRollout driven by hand, as a script or benchmark does: no informer, queue or lease. */
describe.each(databaseBackends)('a reconcile driven by hand on %s', (backend) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine(backend, { controller: false });
  }, 60_000);
  afterAll(() => engine?.stop());

  it('takes a rollout to success one pass at a time; a pass with nothing new writes nothing', async () => {
    const simulator = await engine.simulate({
      register: {
        count: 5,
        fleet: 'sim',
        apps: { web: { services: { nginx: { image: 'nginx:1' } } } },
      },
    });
    await engine.policy('web', { strategy: { interval: '0s' }, health: { soakTime: '0s' } });
    await engine.rollout('web-1-28', { policy: 'web' });
    const deps = directRolloutDeps({ db: engine.database.db, kube: engine.kube });
    let passes = 0;
    while ((await engine.get('web-1-28')).status?.phase !== 'Succeeded') {
      expect(++passes).toBeLessThan(200);
      const { requeueAfter } = await reconcileRollout(deps, 'default/web-1-28');
      await new Promise((resolve) => setTimeout(resolve, Math.min(requeueAfter ?? 100, 100)));
    }
    expect(simulator.summary().images).toEqual({ 'docker.io/library/nginx:1.28': { healthy: 5 } });
    const version = (await engine.get('web-1-28')).metadata.resourceVersion;
    expect(await reconcileRollout(deps, 'default/web-1-28')).toEqual({});
    expect((await engine.get('web-1-28')).metadata.resourceVersion).toBe(version);
  });
});
