import type { MatchReport } from '../operations/match.js';
import type { RolloutPreview } from '../operations/preview.js';
import { table } from './text.js';

/** Devices listed per batch by `preview` unless `--devices` asks for all. */
export const PREVIEW_DEVICES_SHOWN = 10;

/** `kubectl fleet preview`: the rollout a push would create, its batches and devices. */
export function renderPreview(preview: RolloutPreview, allDevices: boolean): string {
  const { rollout } = preview;
  const lines = [
    `Rollout:      ${rollout.metadata.namespace}/${rollout.metadata.name} (not created: a preview writes nothing)`,
    `Image:        ${rollout.spec.image}:${rollout.spec.tag}${rollout.spec.digest ? `@${rollout.spec.digest}` : ''}`,
    `Push:         ${preview.trigger.matched ? 'would create this rollout' : `would create nothing: ${preview.trigger.reason}`}`,
  ];
  if (preview.existingPhase) {
    lines.push(`Exists:       yes, phase ${preview.existingPhase} (a repeat push creates nothing)`);
  }
  lines.push(
    `Strategy:     ${preview.strategy}`,
    `Devices:      ${preview.devices} in ${preview.batches.length} batch${preview.batches.length === 1 ? '' : 'es'}`,
    `Next window:  ${windowText(preview.nextWindow)}`,
    `First step:   ${preview.firstStep.phase ?? '-'}: ${preview.firstStep.message ?? ''}`,
  );
  const rows = preview.batches.map((batch) => [
    String(batch.batch),
    `${batch.percent}%`,
    String(batch.devices.length),
  ]);
  lines.push('', table([['BATCH', 'UP TO', 'DEVICES'], ...rows]));
  for (const batch of preview.batches) {
    const shown = allDevices ? batch.devices : batch.devices.slice(0, PREVIEW_DEVICES_SHOWN);
    const more = batch.devices.length - shown.length;
    lines.push('', `Batch ${batch.batch}:`);
    lines.push(...shown.map((uuid) => `  ${uuid}`));
    if (more > 0) lines.push(`  … and ${more} more (--devices lists them all)`);
  }
  return `${lines.join('\n')}\n`;
}

function windowText(next: string | undefined): string {
  if (next === undefined) return 'no maintenance windows: batches start any time';
  if (next === 'now') return 'open now';
  if (next === 'never') return 'none opens again: no batch can start';
  return next;
}

/** `kubectl fleet match`: the policies a push triggers, then the others with why not. */
export function renderMatch(report: MatchReport, namespaces: boolean): string {
  const image = `${report.repository}:${report.tag}${report.digest ? `@${report.digest}` : ''}`;
  if (report.policies.length === 0) return `${image}: no ImagePolicies to match\n`;
  const matched = report.policies.filter((policy) => policy.matched).length;
  const rows = report.policies.map((policy) => [
    ...(namespaces ? [policy.namespace] : []),
    policy.name,
    policy.matched ? 'yes' : 'no',
    policy.matched
      ? `${policy.exists ? 'exists already: ' : 'creates '}ImageRollout ${policy.rollout}${heldText(policy.heldBy)}`
      : (policy.reason ?? ''),
  ]);
  const header = [...(namespaces ? ['NAMESPACE'] : []), 'POLICY', 'TRIGGERS', 'ROLLOUT OR WHY NOT'];
  return `${image}: ${matched} of ${report.policies.length} policies would roll it out\n\n${table([header, ...rows])}\n`;
}

function heldText(heldBy: string[] | undefined): string {
  if (!heldBy || heldBy.length === 0) return '';
  return `, held by FleetFreeze ${heldBy.join(', ')} until it lifts`;
}
