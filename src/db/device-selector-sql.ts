import { type SQL, sql } from 'drizzle-orm';
import type { DeviceSelector, LabelSelectorRequirement } from '../api/types.js';
import { hasMatchingRules } from '../planner/selector.js';
import { devices } from './schema/index.js';

/*
 * The one translation of the device selector model (src/planner/selector.ts: `selectsDevice`,
 * `matchesRequirements`) into SQL over `devices`. Equality uses `@>` so the GIN index on labels
 * serves it; fleets use the fleet index. A test checks both sides agree on a table of cases.
 */

/** One label requirement as a condition on `devices.labels`. */
export function requirementSql(requirement: LabelSelectorRequirement): SQL {
  const has = sql`(${devices.labels} ? ${requirement.key})`;
  const values = requirement.values ?? [];
  const anyOf =
    values.length === 0
      ? sql`false`
      : sql.join(
          values.map(
            (value) =>
              sql`${devices.labels} @> ${JSON.stringify({ [requirement.key]: value })}::jsonb`,
          ),
          sql` or `,
        );
  switch (requirement.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return sql`not ${has}`;
    case 'In':
      return sql`(${anyOf})`;
    case 'NotIn':
      return sql`not (${anyOf})`;
  }
}

/**
 * The devices a selector selects: listed in `devices`, or matching every part that is set among
 * `fleets` (any of them), `matchLabels` and `matchExpressions`.
 */
export function deviceSelectorSql(selector: DeviceSelector): SQL {
  const listed = (selector.devices ?? []).map((uuid) => uuid.toLowerCase());
  const byUuid =
    listed.length > 0
      ? sql`${devices.uuid}::text in (select jsonb_array_elements_text(${JSON.stringify(listed)}::jsonb))`
      : sql`false`;
  if (!hasMatchingRules(selector)) return sql`(${byUuid})`;
  const rules: SQL[] = [];
  if (selector.fleets) {
    rules.push(
      sql`${devices.fleet} in (select jsonb_array_elements_text(${JSON.stringify(selector.fleets)}::jsonb))`,
    );
  }
  if (selector.matchLabels && Object.keys(selector.matchLabels).length > 0) {
    rules.push(sql`${devices.labels} @> ${JSON.stringify(selector.matchLabels)}::jsonb`);
  }
  for (const requirement of selector.matchExpressions ?? [])
    rules.push(requirementSql(requirement));
  const all = rules.length > 0 ? sql.join(rules, sql` and `) : sql`true`;
  return sql`(${byUuid} or (${all}))`;
}
