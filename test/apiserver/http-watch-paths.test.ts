import { describe, expect, it } from 'vitest';
import { POLICIES, policy, serverFixture } from '../support/apiserver.js';

const WATCH = '/apis/fleet.iotistic.io/v1alpha1/watch/namespaces/default/imagepolicies';
const seen = (events: Array<{ type: string; object: { metadata: { name: string } } }>) =>
  events.map((event) => `${event.type} ${event.object.metadata.name}`);

describe('the deprecated watch paths (Ruby kubeclient 4 watches through them)', () => {
  const { api } = serverFixture('pglite');

  it('serve a watch of the collection, and of one object by name', async () => {
    const first = await api.post(POLICIES, policy('path-a'));
    const from = first.body.metadata.resourceVersion;
    await api.post(POLICIES, policy('path-b'));
    await api.delete(`${POLICIES}/path-a`);

    const all = await api.watch(`${WATCH}?resourceVersion=${from}&timeoutSeconds=1`);
    await all.ended;
    expect(all.status).toBe(200);
    expect(seen(all.events)).toEqual(['ADDED path-b', 'DELETED path-a']);

    const one = await api.watch(`${WATCH}/path-a?resourceVersion=${from}&timeoutSeconds=1`);
    await one.ended;
    expect(seen(one.events)).toEqual(['DELETED path-a']);
  });

  it('answer 404 for a subresource', async () => {
    const status = await api.get(`${WATCH}/path-b/status?timeoutSeconds=1`);
    expect(status.status).toBe(404);
  });
});
