import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ImageRollout, NotificationChannel } from '../../src/api/types.js';
import { channelStatus, recordAttempt, recordOf } from '../../src/notifications/channel-status.js';
import { channelTakes, signature } from '../../src/notifications/channels.js';
import { cloudEventType, slackMessage } from '../../src/notifications/messages.js';
import { sendMail } from '../../src/notifications/smtp.js';
import {
  keyOf,
  notificationsOf,
  type RolloutNotification,
} from '../../src/notifications/transitions.js';
import type { PlannedEvent } from '../../src/planner/types.js';
import { verify } from '../support/notification-receivers.js';

const NOW = new Date('2026-12-07T10:00:00Z');
const rollout: ImageRollout = {
  apiVersion: 'fleet.iotistic.io/v1alpha1',
  kind: 'ImageRollout',
  metadata: { name: 'web-2', namespace: 'prod', uid: 'u-1', generation: 3, labels: { team: 'a' } },
  spec: { policyRef: { name: 'web' }, image: 'ghcr.io/acme/web', tag: '2.0' },
  status: {
    conditions: [
      {
        type: 'Progressing',
        status: 'True',
        reason: 'BatchInProgress',
        message: '',
        lastTransitionTime: '',
      },
    ],
  },
};
const event = (reason: PlannedEvent['reason']): PlannedEvent => ({
  type: 'Normal',
  reason,
  action: 'X',
  note: `${reason} note`,
});
const progressing = (reason: string) => ({
  conditions: [
    {
      type: 'Progressing',
      status: 'True' as const,
      reason,
      message: `${reason} message`,
      lastTransitionTime: '',
    },
  ],
  currentBatch: 2,
  totalBatches: 4,
  devices: 10,
  updated: 5,
  healthy: 4,
  failed: 1,
});

describe('notificationsOf', () => {
  it.each([
    [[event('RolloutStarted')], 'BatchInProgress', [['Started', 'u-1/Started']]],
    [[event('BatchStarted')], 'BatchInProgress', [['BatchStarted', 'u-1/BatchStarted/2']]],
    [[event('BatchCompleted')], 'BatchInProgress', []],
    [[], 'WaitingForApproval', [['WaitingForApproval', 'u-1/WaitingForApproval/3']]],
    [[event('RolloutPaused')], 'PausedByUser', [['Paused', 'u-1/Paused/3']]],
    [
      [event('FailureBudgetExceeded')],
      'FailureBudgetExceeded',
      [['FailureBudgetExceeded', 'u-1/FailureBudgetExceeded/3/2']],
    ],
    [[event('RollbackStarted')], 'RollingBack', [['RollingBack', 'u-1/RollingBack']]],
    [[event('RollbackCompleted')], 'RolledBack', [['RolledBack', 'u-1/RolledBack']]],
    [[event('RolloutSucceeded')], 'Succeeded', [['Succeeded', 'u-1/Succeeded']]],
    [[event('InvalidConfiguration')], 'InvalidSpec', [['Failed', 'u-1/Failed/3']]],
    [[event('RolloutResumed')], 'BatchInProgress', []],
  ] as const)('%j in situation %s → %j', (events, situation, expected) => {
    const plan = { events: [...events], status: progressing(situation) };
    const found = notificationsOf(rollout, plan, NOW);
    expect(found.map((n) => [n.event, n.key])).toEqual(expected);
  });

  it('does not repeat WaitingForApproval while the rollout keeps waiting', () => {
    const waiting = { ...rollout, status: progressing('WaitingForApproval') };
    expect(
      notificationsOf(waiting, { events: [], status: progressing('WaitingForApproval') }, NOW),
    ).toEqual([]);
  });

  it('carries the rollout, image, batch and counts', () => {
    const [n] = notificationsOf(
      rollout,
      { events: [event('BatchStarted')], status: progressing('BatchInProgress') },
      NOW,
    );
    expect(n).toEqual({
      key: 'u-1/BatchStarted/2',
      event: 'BatchStarted',
      namespace: 'prod',
      name: 'web-2',
      uid: 'u-1',
      policy: 'web',
      labels: { team: 'a' },
      image: 'ghcr.io/acme/web:2.0',
      batch: 2,
      batches: 4,
      devices: 10,
      updated: 5,
      healthy: 4,
      failed: 1,
      reason: 'BatchInProgress',
      message: 'BatchStarted note',
      time: NOW.toISOString(),
    });
  });

  it('is deterministic: the same pass planned again has the same keys', () => {
    expect(keyOf('u', 'Paused', 4, 1)).toBe(keyOf('u', 'Paused', 4, 1));
    expect(keyOf('u', 'Paused', 4, 1)).not.toBe(keyOf('u', 'Paused', 6, 1));
  });
});

const sample: RolloutNotification = notificationsOf(
  rollout,
  { events: [event('FailureBudgetExceeded')], status: progressing('FailureBudgetExceeded') },
  NOW,
)[0] as RolloutNotification;

const channel = (
  spec: Partial<NotificationChannel['spec']>,
  namespace = 'prod',
): NotificationChannel => ({
  apiVersion: 'fleet.iotistic.io/v1alpha1',
  kind: 'NotificationChannel',
  metadata: { name: 'c', namespace, uid: 'c-1', generation: 2 },
  spec: { type: 'Webhook', webhook: { url: 'https://x.example' }, ...spec },
});

describe('channelTakes', () => {
  it.each([
    ['everything of its namespace', {}, 'prod', true],
    ['nothing of another namespace', {}, 'dev', false],
    ['nothing while suspended', { suspend: true }, 'prod', false],
    ['its events', { events: ['FailureBudgetExceeded' as const] }, 'prod', true],
    ['not other events', { events: ['Succeeded' as const] }, 'prod', false],
    ['its policies', { rollouts: { policies: ['web'] } }, 'prod', true],
    ['not other policies', { rollouts: { policies: ['db'] } }, 'prod', false],
    ['its rollout names', { rollouts: { names: ['web-2'] } }, 'prod', true],
    ['matching labels', { rollouts: { selector: { matchLabels: { team: 'a' } } } }, 'prod', true],
    ['not other labels', { rollouts: { selector: { matchLabels: { team: 'b' } } } }, 'prod', false],
    [
      'matching expressions',
      {
        rollouts: {
          selector: { matchExpressions: [{ key: 'team', operator: 'In' as const, values: ['a'] }] },
        },
      },
      'prod',
      true,
    ],
    [
      'every field that is set',
      { rollouts: { policies: ['web'], names: ['other'] } },
      'prod',
      false,
    ],
  ])('takes %s', (_name, spec, namespace, expected) => {
    expect(channelTakes(channel(spec, namespace), sample)).toBe(expected);
  });
});

describe('messages', () => {
  it.each([
    ['Started', 'io.iotistic.fleet.rollout.started'],
    ['BatchStarted', 'io.iotistic.fleet.rollout.batch_started'],
    ['FailureBudgetExceeded', 'io.iotistic.fleet.rollout.failure_budget_exceeded'],
    ['WaitingForApproval', 'io.iotistic.fleet.rollout.waiting_for_approval'],
  ] as const)('%s has the CloudEvents type %s', (event, type) => {
    expect(cloudEventType(event)).toBe(type);
  });

  it('escapes Slack mrkdwn control characters in text from users', () => {
    const message = slackMessage({ ...sample, message: 'a <b> & c' });
    expect(JSON.stringify(message)).toContain('a &lt;b&gt; &amp; c');
  });

  it('signs as the documented verification expects, and a changed body fails', () => {
    const header = signature('k', '{"a":1}', 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verify('k', '{"a":1}', header)).toBe(true);
    expect(verify('k', '{"a":2}', header)).toBe(false);
    expect(verify('other', '{"a":1}', header)).toBe(false);
  });
});

describe('channel status', () => {
  it('turns Ready False with the reason while deliveries fail, True after a success', () => {
    const c = channel({});
    const failed = recordAttempt(recordOf(c), NOW, {
      reason: 'DeliveryFailed',
      message: 'HTTP 503',
    });
    const twice = recordAttempt(failed, NOW, { reason: 'DeliveryFailed', message: 'HTTP 503' });
    const status = channelStatus(c, twice, NOW);
    expect(status).toMatchObject({
      observedGeneration: 2,
      consecutiveFailures: 2,
      lastError: 'HTTP 503',
    });
    expect(status.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'DeliveryFailed',
    });
    const recovered = channelStatus({ ...c, status }, recordAttempt(twice, NOW), NOW);
    expect(recovered).toMatchObject({
      consecutiveFailures: 0,
      lastSuccessTime: '2026-12-07T10:00:00Z',
    });
    expect(recovered.lastError).toBeUndefined();
    expect(recovered.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  it('reports a missing Secret and a suspended channel', () => {
    const c = channel({});
    expect(
      channelStatus(c, recordOf(c), NOW, 'Secret prod/x has no key "url"').conditions?.[0],
    ).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
    });
    expect(
      channelStatus(channel({ suspend: true }), recordOf(c), NOW).conditions?.[0],
    ).toMatchObject({
      reason: 'Suspended',
    });
  });
});

describe('sendMail', () => {
  it('refuses to go on in clear text when StartTLS is asked for and not offered', async () => {
    const commands: string[] = [];
    const server = createServer((socket) => {
      socket.write('220 test ESMTP\r\n');
      socket.on('data', (chunk) => {
        commands.push(chunk.toString().trim());
        socket.write('250-test\r\n250 AUTH PLAIN\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sending = sendMail(
      { host: '127.0.0.1', port, tls: 'StartTLS', auth: { username: 'u', password: 'secret' } },
      {
        from: 'a@example.com',
        to: ['b@example.com'],
        subject: 's',
        body: 'b',
        messageId: 'm@x',
        date: NOW,
      },
    );
    await expect(sending).rejects.toThrow('the server does not offer STARTTLS');
    expect(commands).toEqual(['EHLO fleet-rollout']);
    server.close();
  });
});
