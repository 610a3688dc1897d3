import type { DeviceSelector, LabelSelectorRequirement } from '../api/types.js';

/** What a selector is matched against: one device's identity, fleet and labels. */
export interface SelectableDevice {
  uuid: string;
  fleet: string;
  labels: Record<string, string>;
}

/**
 * Whether a selector selects a device: listed in `devices`, or matching every part that is set
 * among `fleets` (any of them), `matchLabels` and `matchExpressions` (Kubernetes LabelSelector
 * semantics). A selector with none of those three parts selects only its listed devices.
 */
export function selectsDevice(selector: DeviceSelector, device: SelectableDevice): boolean {
  const uuid = device.uuid.toLowerCase();
  if (selector.devices?.some((listed) => listed.toLowerCase() === uuid)) return true;
  if (!hasMatchingRules(selector)) return false;
  if (selector.fleets && !selector.fleets.includes(device.fleet)) return false;
  return (
    matchesLabelMap(selector.matchLabels ?? {}, device.labels) &&
    matchesRequirements(selector.matchExpressions ?? [], device.labels)
  );
}

/**
 * Whether labels satisfy every requirement (Kubernetes LabelSelector semantics; `NotIn` and
 * `DoesNotExist` also match a missing key). `src/db/device-selector-sql.ts` says the same in SQL.
 */
export function matchesRequirements(
  requirements: readonly LabelSelectorRequirement[],
  labels: Record<string, string>,
): boolean {
  return requirements.every((rule) => matchesRequirement(rule, labels));
}

/** Whether a selector has any part besides explicit device uuids. */
export function hasMatchingRules(selector: DeviceSelector): boolean {
  return (
    selector.fleets !== undefined ||
    selector.matchLabels !== undefined ||
    selector.matchExpressions !== undefined
  );
}

function matchesLabelMap(wanted: Record<string, string>, labels: Record<string, string>) {
  return Object.entries(wanted).every(
    ([key, value]) => Object.hasOwn(labels, key) && labels[key] === value,
  );
}

/** One matchExpressions requirement; NotIn and DoesNotExist also match a missing key. */
function matchesRequirement(rule: LabelSelectorRequirement, labels: Record<string, string>) {
  const has = Object.hasOwn(labels, rule.key);
  const values = rule.values ?? [];
  switch (rule.operator) {
    case 'In':
      return has && values.includes(labels[rule.key] as string);
    case 'NotIn':
      return !has || !values.includes(labels[rule.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}
