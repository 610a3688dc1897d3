import type { NotificationEvent } from '../api/types.js';
import type { RolloutNotification } from './transitions.js';

/** How each channel type renders a notification: Slack Block Kit, CloudEvents JSON, email text. */

const TITLES: Record<NotificationEvent, string> = {
  Started: 'Rollout started',
  BatchStarted: 'Batch started',
  WaitingForApproval: 'Waiting for approval',
  Paused: 'Rollout paused',
  FailureBudgetExceeded: 'Failure budget exceeded',
  RollingBack: 'Rolling back',
  RolledBack: 'Rolled back',
  Succeeded: 'Rollout succeeded',
  Failed: 'Rollout failed',
};

const EMOJI: Record<NotificationEvent, string> = {
  Started: ':rocket:',
  BatchStarted: ':arrow_forward:',
  WaitingForApproval: ':raised_hand:',
  Paused: ':double_vertical_bar:',
  FailureBudgetExceeded: ':rotating_light:',
  RollingBack: ':rewind:',
  RolledBack: ':leftwards_arrow_with_hook:',
  Succeeded: ':white_check_mark:',
  Failed: ':x:',
};

/** `io.iotistic.fleet.rollout.<event in snake_case>`: the CloudEvents `type`. */
export function cloudEventType(event: NotificationEvent): string {
  return `io.iotistic.fleet.rollout.${event.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}`;
}

/** The kubectl command that shows the rollout. */
export function describeCommand(n: RolloutNotification): string {
  return `kubectl describe imagerollout -n ${n.namespace} ${n.name}`;
}

/** One line: `<title>: <namespace>/<name> (<image>)`. */
export function summary(n: RolloutNotification): string {
  return `${TITLES[n.event]}: ${n.namespace}/${n.name} (${n.image})`;
}

/** Batch and device counts as people read them. */
export function countsLine(n: RolloutNotification): string {
  const batch = n.batches > 0 ? `batch ${n.batch}/${n.batches}` : 'no batch started';
  return `${batch} · ${n.updated} updated, ${n.healthy} healthy, ${n.failed} failed of ${n.devices} devices`;
}

/** Slack's mrkdwn needs `&`, `<` and `>` escaped in text that is not a link. */
function mrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The Slack incoming-webhook body: a plain-text fallback and Block Kit sections. */
export function slackMessage(n: RolloutNotification): Record<string, unknown> {
  const fields = [
    ['Rollout', `${n.namespace}/${n.name}`],
    ['Image', `\`${n.image}\``],
    ['Batch', n.batches > 0 ? `${n.batch}/${n.batches}` : '-'],
    ['Devices', `${n.updated} updated · ${n.healthy} healthy · ${n.failed} failed of ${n.devices}`],
    ['Policy', n.policy || '-'],
    ['Reason', n.reason || '-'],
  ];
  return {
    text: mrkdwn(`${summary(n)} — ${countsLine(n)}`),
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: `${TITLES[n.event]}: ${n.name}`.slice(0, 150) },
      },
      {
        type: 'section',
        fields: fields.map(([label, value]) => ({
          type: 'mrkdwn',
          text: `*${label}*\n${mrkdwn(value ?? '')}`,
        })),
      },
      ...(n.message
        ? [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: `${EMOJI[n.event]} ${mrkdwn(n.message).slice(0, 2900)}`,
              },
            },
          ]
        : []),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `\`${mrkdwn(describeCommand(n))}\`` }],
      },
    ],
  };
}

/** The CloudEvents 1.0 structured-mode event (`application/cloudevents+json`). */
export function cloudEvent(n: RolloutNotification): Record<string, unknown> {
  const { key: _key, labels: _labels, ...data } = n;
  return {
    specversion: '1.0',
    id: n.key,
    source: `/apis/fleet.iotistic.io/v1alpha1/namespaces/${n.namespace}/imagerollouts/${n.name}`,
    type: cloudEventType(n.event),
    subject: `${n.namespace}/${n.name}`,
    time: n.time,
    datacontenttype: 'application/json',
    data: { ...data, command: describeCommand(n) },
  };
}

/** The email subject and plain-text body. */
export function emailText(n: RolloutNotification): { subject: string; body: string } {
  const lines = [
    summary(n),
    '',
    `Rollout:  ${n.namespace}/${n.name}`,
    `Policy:   ${n.policy || '-'}`,
    `Image:    ${n.image}`,
    `Progress: ${countsLine(n)}`,
    `Reason:   ${n.reason || '-'}`,
    '',
    n.message,
    '',
    `See it with: ${describeCommand(n)}`,
  ];
  return { subject: `[fleet-rollout] ${summary(n)}`, body: lines.join('\n') };
}
