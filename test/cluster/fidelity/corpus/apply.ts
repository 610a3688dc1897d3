import { createNamespace, fleetPath, http, type Json, kubectl, type Step } from '../steps.js';

const NS = 'fidelity-apply';
const POLICIES = fleetPath(NS, 'imagepolicies');
const APPLY = 'application/apply-patch+yaml';

const applied = (image: string, extra = '') =>
  `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata:\n  name: a\nspec:\n  image: ${image}\n  selector:\n    fleets: [edge]\n${extra}`;

/** kube-apiserver lists conflicts of several managers in map order, which varies: sort both. */
const sortedCauses = (body: Json) =>
  body.details?.causes
    ? {
        ...body,
        details: {
          ...body.details,
          causes: [...body.details.causes].sort((a: Json, b: Json) =>
            `${a.field}${a.message}`.localeCompare(`${b.field}${b.message}`),
          ),
        },
      }
    : body;

const apply = (name: string, query: string, body: string, path = `${POLICIES}/a`) =>
  http(
    name,
    { method: 'PATCH', path: `${path}?${query}`, contentType: APPLY, body },
    { select: sortedCauses },
  );

const MANIFEST = `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImagePolicy
metadata:
  name: k
  namespace: ${NS}
  labels:
    tier: web
spec:
  image: ghcr.io/acme/web
  selector:
    fleets: [edge]
`;

/** Server-side apply: ownership, conflicts, force, and kubectl's apply flavours. */
export const applies: Step[] = [
  createNamespace(NS),
  apply('apply creates', 'fieldManager=alice', applied('ghcr.io/acme/web')),
  apply('apply the same again', 'fieldManager=alice', applied('ghcr.io/acme/web')),
  apply('another manager, same value: shared', 'fieldManager=bob', applied('ghcr.io/acme/web')),
  apply('bob changes the image: 409 with causes', 'fieldManager=carol', applied('ghcr.io/acme/x')),
  apply('force takes it', 'fieldManager=carol&force=true', applied('ghcr.io/acme/x')),
  apply('alice now conflicts', 'fieldManager=alice', applied('ghcr.io/acme/web')),
  apply(
    'alice drops a field she owns alone',
    'fieldManager=alice&force=true',
    `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata:\n  name: a\n`,
  ),
  apply('apply without a field manager: 400', '', applied('ghcr.io/acme/web')),
  apply('force on a non-apply is refused', 'fieldManager=alice&force=yes', applied('ghcr.io/a/b')),
  apply('apply with invalid YAML: 400', 'fieldManager=alice', 'spec: [unclosed'),
  apply(
    'apply an invalid object: 422',
    'fieldManager=alice',
    applied('ghcr.io/acme/web', '  tags:\n    includePrerelease: true\n'),
  ),
  apply(
    'apply with a name other than the URL',
    'fieldManager=alice',
    applied('x'),
    `${POLICIES}/b`,
  ),
  apply(
    'apply without apiVersion and kind: 400',
    'fieldManager=alice',
    'metadata:\n  name: a\nspec:\n  image: x\n',
  ),
  apply(
    'apply to /status is not served for policies without status: rollouts instead',
    'fieldManager=alice',
    'apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImageRollout\nmetadata:\n  name: r\nspec:\n  policyRef:\n    name: web\n  image: ghcr.io/acme/web\n  tag: "1"\n',
    `${fleetPath(NS, 'imagerollouts')}/r`,
  ),
  apply(
    'apply status through /status',
    'fieldManager=status-writer',
    'apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImageRollout\nmetadata:\n  name: r\nstatus:\n  phase: Pending\n',
    `${fleetPath(NS, 'imagerollouts')}/r/status`,
  ),
  http('the managed fields after all that', { method: 'GET', path: `${POLICIES}/a` }),
  kubectl('kubectl apply --server-side', ['apply', '--server-side', '-f', '-', '-o', 'json'], {
    input: MANIFEST,
  }),
  kubectl(
    'kubectl apply --server-side with another manager conflicts',
    ['apply', '--server-side', '--field-manager=other', '-f', '-'],
    { input: MANIFEST.replace('tier: web', 'tier: api') },
  ),
  kubectl(
    'kubectl apply --server-side --force-conflicts',
    [
      'apply',
      '--server-side',
      '--field-manager=other',
      '--force-conflicts',
      '-f',
      '-',
      '-o',
      'yaml',
    ],
    { input: MANIFEST.replace('tier: web', 'tier: api') },
  ),
  kubectl('kubectl apply (client-side) of a new object', ['apply', '-f', '-', '-o', 'json'], {
    input: MANIFEST.replace('name: k', 'name: c'),
  }),
  kubectl('kubectl apply (client-side) again with a change', ['apply', '-f', '-', '-o', 'json'], {
    input: MANIFEST.replace('name: k', 'name: c').replace('edge', 'lab'),
  }),
  kubectl('kubectl apply (client-side) unchanged', ['apply', '-f', '-'], {
    input: MANIFEST.replace('name: k', 'name: c').replace('edge', 'lab'),
  }),
  kubectl('kubectl apply view-last-applied', [
    'apply',
    'view-last-applied',
    '-n',
    NS,
    'imagepolicy/c',
  ]),
  kubectl(
    'kubectl apply --server-side takes over a client-side object',
    ['apply', '--server-side', '-f', '-', '-o', 'json'],
    { input: MANIFEST.replace('name: k', 'name: c') },
  ),
];
