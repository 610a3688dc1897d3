import type { ImagePolicy, ImageRollout } from '../api/types.js';
import type { FreezeSummary } from '../operations/freeze.js';
import { age, progressBar, table } from './text.js';

/** `kubectl fleet get rollouts`: phase, batch, a progress bar and counts per rollout. */
export function rolloutTable(rollouts: readonly ImageRollout[], now: Date, namespaces: boolean) {
  if (rollouts.length === 0) return 'No ImageRollouts found.';
  const header = [
    'NAME',
    'POLICY',
    'IMAGE',
    'PHASE',
    'BATCH',
    'PROGRESS',
    'UPDATED',
    'HEALTHY',
    'FAILED',
    'AGE',
  ];
  const rows = rollouts.map((rollout) => {
    const status = rollout.status ?? {};
    const devices = status.devices ?? 0;
    const batch = status.totalBatches ? `${status.currentBatch ?? 0}/${status.totalBatches}` : '-';
    const counts = {
      devices,
      updated: status.updated ?? 0,
      healthy: status.healthy ?? 0,
      failed: status.failed ?? 0,
    };
    return [
      ...(namespaces ? [rollout.metadata.namespace ?? ''] : []),
      rollout.metadata.name ?? '',
      rollout.spec.policyRef?.name ?? '',
      `${rollout.spec.image}:${rollout.spec.tag}`,
      status.phase ?? 'Pending',
      batch,
      progressBar(counts, 20),
      `${counts.updated}/${devices}`,
      String(counts.healthy),
      String(counts.failed),
      age(rollout.metadata.creationTimestamp, now),
    ];
  });
  return table([[...(namespaces ? ['NAMESPACE'] : []), ...header], ...rows]);
}

/** `kubectl fleet get policies`: what each policy takes, how, and what it last rolled out. */
export function policyTable(policies: readonly ImagePolicy[], now: Date, namespaces: boolean) {
  if (policies.length === 0) return 'No ImagePolicies found.';
  const header = ['NAME', 'IMAGE', 'TAGS', 'STRATEGY', 'DEVICES', 'LATEST', 'SUSPENDED', 'AGE'];
  const rows = policies.map((policy) => {
    const { spec, status } = policy;
    const tags = [spec.tags?.pattern, spec.tags?.semver].filter(Boolean).join(' ') || '*';
    const strategy = spec.strategy ?? {};
    const batches =
      strategy.type === 'AllAtOnce' ? '' : ` ${(strategy.batches ?? [10, 50, 100]).join('/')}%`;
    return [
      ...(namespaces ? [policy.metadata.namespace ?? ''] : []),
      policy.metadata.name ?? '',
      spec.image,
      tags,
      `${strategy.type ?? 'Staged'}${batches}`,
      status?.selectedDevices === undefined ? '-' : String(status.selectedDevices),
      status?.latestImage ?? '-',
      spec.suspend ? 'true' : 'false',
      age(policy.metadata.creationTimestamp, now),
    ];
  });
  return table([[...(namespaces ? ['NAMESPACE'] : []), ...header], ...rows]);
}

/** `kubectl fleet get freezes`: state, window and what each freeze holds. */
export function freezeTable(freezes: readonly FreezeSummary[], namespaces: boolean) {
  if (freezes.length === 0) return 'No FleetFreezes found.';
  const header = ['NAME', 'STATE', 'START', 'END', 'HELD', 'REASON'];
  const rows = freezes.map((item) => [
    ...(namespaces ? [item.namespace] : []),
    item.name,
    item.state,
    item.start ?? '-',
    item.end ?? '-',
    String(item.heldCount),
    item.reason,
  ]);
  return table([[...(namespaces ? ['NAMESPACE'] : []), ...header], ...rows]);
}
