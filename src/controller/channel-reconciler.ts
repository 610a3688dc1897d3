import type { NotificationChannel, SecretKeyRef } from '../api/types.js';
import { isNotFound, type KubePort } from '../kube/port.js';
import {
  channelStatus,
  type DeliveryRecord,
  recordAttempt,
  recordOf,
} from '../notifications/channel-status.js';
import type { DeliveryError, SecretLookup } from '../notifications/channels.js';
import type { NotificationMetrics } from '../notifications/metrics.js';
import { statusEqual } from '../planner/conditions.js';
import type { EventRecorder } from './event-recorder.js';
import type { WorkResult } from './work-queue.js';

/** What the channel reconciler uses. */
export interface ChannelReconcilerDeps {
  kube: Pick<KubePort, 'notificationChannels' | 'secrets'>;
  /** The cached channel `namespace/name`, if any. */
  cached(key: string): NotificationChannel | undefined;
  /** Queues the channel's key again (after a delivery attempt changed its record). */
  enqueue(key: string): void;
  events: EventRecorder;
  metrics?: NotificationMetrics;
  now(): Date;
}

/**
 * NotificationChannel status: Ready (False with SecretNotFound or DeliveryFailed while
 * deliveries fail), consecutive failures, last success and error — from the dispatcher's
 * attempts, written only when it changed. Also reads the channels' Secrets for the dispatcher.
 */
export class ChannelReconciler {
  private readonly records = new Map<string, DeliveryRecord>();
  /** Problems found checking a generation's Secret references, by channel uid. */
  private readonly problems = new Map<string, { generation: number; problem?: string }>();

  constructor(private readonly deps: ChannelReconcilerDeps) {}

  /** Reads one key of a Secret (the dispatcher's SecretLookup). */
  readonly secret: SecretLookup = async (namespace: string, ref: SecretKeyRef) => {
    const data = await this.deps.kube.secrets.get(namespace, ref.name);
    return data?.[ref.key ?? ''];
  };

  /** Updates the record, metrics and Events after a delivery attempt, and queues a status write. */
  onAttempt(channel: NotificationChannel, failure?: DeliveryError, abandoned = false): void {
    const uid = channel.metadata.uid ?? '';
    const before = this.recordFor(channel);
    const after = recordAttempt(before, this.deps.now(), failure);
    this.records.set(uid, after);
    if (!failure) this.problems.set(uid, { generation: channel.metadata.generation ?? 0 });
    const ref = {
      namespace: channel.metadata.namespace ?? '',
      name: channel.metadata.name ?? '',
      type: channel.spec.type,
    };
    const outcome = failure ? (abandoned ? 'abandoned' : 'failed') : 'delivered';
    this.deps.metrics?.observe(ref, outcome, after.consecutiveFailures);
    if (failure) {
      const note = `${failure.message}${abandoned ? ' (given up)' : ''}`;
      void this.deps.events.record(channel, {
        type: 'Warning',
        reason: failure.reason,
        action: 'Deliver',
        note,
      });
    } else if (before.consecutiveFailures > 0) {
      const note = `delivered again after ${before.consecutiveFailures} failed attempts`;
      void this.deps.events.record(channel, {
        type: 'Normal',
        reason: 'DeliveryRecovered',
        action: 'Deliver',
        note,
      });
    }
    this.deps.enqueue(`${ref.namespace}/${ref.name}`);
  }

  /** Writes the channel's status when it changed; a conflict re-reads later. */
  async reconcile(key: string): Promise<WorkResult> {
    const channel = this.deps.cached(key);
    if (!channel) {
      this.forget(key);
      return {};
    }
    const problem = await this.checkSecrets(channel);
    const status = channelStatus(channel, this.recordFor(channel), this.deps.now(), problem);
    if (statusEqual(status, channel.status ?? {})) return {};
    try {
      await this.deps.kube.notificationChannels.replaceStatus({ ...channel, status });
    } catch (error) {
      if (isNotFound(error)) return {};
      return { requeueAfter: 500 };
    }
    return {};
  }

  private recordFor(channel: NotificationChannel): DeliveryRecord {
    const uid = channel.metadata.uid ?? '';
    const record = this.records.get(uid) ?? recordOf(channel);
    this.records.set(uid, record);
    return record;
  }

  /** Once per generation: whether the Secrets and keys the spec names exist. */
  private async checkSecrets(channel: NotificationChannel): Promise<string | undefined> {
    const uid = channel.metadata.uid ?? '';
    const generation = channel.metadata.generation ?? 0;
    const known = this.problems.get(uid);
    if (known?.generation === generation) return known.problem;
    const namespace = channel.metadata.namespace ?? '';
    let problem: string | undefined;
    for (const ref of secretRefs(channel)) {
      if ((await this.secret(namespace, ref)) === undefined) {
        problem = `Secret ${namespace}/${ref.name} has no key ${JSON.stringify(ref.key)}`;
        break;
      }
    }
    this.problems.set(uid, { generation, ...(problem ? { problem } : {}) });
    return problem;
  }

  private forget(key: string) {
    const [namespace = '', name = ''] = key.split('/');
    for (const type of ['Slack', 'Webhook', 'Email'])
      this.deps.metrics?.forget({ namespace, name, type });
  }
}

/** Every Secret key the channel's spec refers to, with defaults applied. */
function secretRefs(channel: NotificationChannel): Array<Required<SecretKeyRef>> {
  const { slack, webhook, email } = channel.spec;
  const refs: Array<Required<SecretKeyRef>> = [];
  if (slack)
    refs.push({
      name: slack.webhookURLSecretRef.name,
      key: slack.webhookURLSecretRef.key ?? 'url',
    });
  if (webhook?.signingSecretRef) {
    refs.push({
      name: webhook.signingSecretRef.name,
      key: webhook.signingSecretRef.key ?? 'secret',
    });
  }
  if (email?.authSecretRef) {
    refs.push({ name: email.authSecretRef.name, key: 'username' });
    refs.push({ name: email.authSecretRef.name, key: 'password' });
  }
  if (email?.caSecretRef)
    refs.push({ name: email.caSecretRef.name, key: email.caSecretRef.key ?? 'ca.crt' });
  return refs;
}
