import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** Delivery outcomes, the `outcome` label. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'abandoned';

/**
 * Notification metrics: deliveries by channel and outcome, consecutive failures per channel, and
 * the outbox backlog. Labels are bounded by the number of NotificationChannels.
 */
export class NotificationMetrics {
  private readonly deliveries: Counter<'channel_namespace' | 'channel' | 'type' | 'outcome'>;
  private readonly failing: Gauge<'channel_namespace' | 'channel' | 'type'>;
  private readonly pending: Gauge<'stage'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.deliveries = new Counter({
      name: `${METRIC_PREFIX}notification_deliveries_total`,
      help: 'Notification delivery attempts by channel and outcome (delivered, failed and retried, abandoned).',
      labelNames: ['channel_namespace', 'channel', 'type', 'outcome'] as const,
      registers,
    });
    this.failing = new Gauge({
      name: `${METRIC_PREFIX}notification_channel_consecutive_failures`,
      help: 'Delivery attempts to the channel that failed in a row; 0 after a success.',
      labelNames: ['channel_namespace', 'channel', 'type'] as const,
      registers,
    });
    this.pending = new Gauge({
      name: `${METRIC_PREFIX}notification_pending`,
      help: 'Notifications waiting: stage="outbox" not yet fanned out to channels, stage="delivery" deliveries not yet made.',
      labelNames: ['stage'] as const,
      registers,
    });
  }

  /** Counts one attempt's outcome and sets the channel's consecutive failures. */
  observe(
    channel: { namespace: string; name: string; type: string },
    outcome: DeliveryOutcome,
    consecutiveFailures: number,
  ): void {
    const labels = {
      channel_namespace: channel.namespace,
      channel: channel.name,
      type: channel.type,
    };
    this.deliveries.inc({ ...labels, outcome });
    this.failing.set(labels, consecutiveFailures);
  }

  /** Drops the series of a deleted channel. */
  forget(channel: { namespace: string; name: string; type: string }): void {
    this.failing.remove({
      channel_namespace: channel.namespace,
      channel: channel.name,
      type: channel.type,
    });
  }

  /** The backlog, as the dispatcher last counted it. */
  setPending(outbox: number, deliveries: number): void {
    this.pending.set({ stage: 'outbox' }, outbox);
    this.pending.set({ stage: 'delivery' }, deliveries);
  }
}
