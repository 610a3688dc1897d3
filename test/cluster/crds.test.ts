import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { adminKubectl, apiServers, clusterRequest, installCrds } from './cluster.js';

const NAMESPACE = 'crds-examples';

describe.each(apiServers())('crds/ on $version', ({ access }) => {
  beforeAll(() => installCrds(access));

  it.each([
    'imagepolicies.fleet.iotistic.io',
    'imagerollouts.fleet.iotistic.io',
    'notificationchannels.fleet.iotistic.io',
    'fleetfreezes.fleet.iotistic.io',
  ])('%s is Established, its names accepted, its schema structural', async (name) => {
    const { text } = await clusterRequest(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
    );
    const conditions = Object.fromEntries(
      (JSON.parse(text).status.conditions as Array<{ type: string; status: string }>).map(
        (condition) => [condition.type, condition.status],
      ),
    );
    expect(conditions).toMatchObject({ Established: 'True', NamesAccepted: 'True' });
    expect(conditions.NonStructuralSchema).toBeUndefined();
  });

  it('accepts every file of examples/ with strict field validation and no warning', async () => {
    await adminKubectl(['create', 'namespace', NAMESPACE], undefined, access);
    const files = readdirSync('examples').filter((file) => file.endsWith('.yaml'));
    const apply = [
      'apply',
      '--validate=strict',
      '--namespace',
      NAMESPACE,
      ...files.flatMap((file) => ['-f', `examples/${file}`]),
    ];
    const objects = files.flatMap((file) =>
      parseAllDocuments(readFileSync(`examples/${file}`, 'utf8')).map((d) => d.toJS()),
    );
    const applied = await adminKubectl(apply, undefined, access);
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim().split('\n')).toHaveLength(objects.length);
    const kinds = 'imagepolicies,imagerollouts,notificationchannels,fleetfreezes,secrets';
    const list = ['get', kinds, '--namespace', NAMESPACE, '-o', 'name'];
    const listed = await adminKubectl(list, undefined, access);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(
      objects
        .map(
          (o) =>
            `${o.kind === 'Secret' ? 'secret' : `${o.kind.toLowerCase()}.fleet.iotistic.io`}/${o.metadata.name}`,
        )
        .sort(),
    );
  });
});
