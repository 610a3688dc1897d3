import { createHmac } from 'node:crypto';
import type { NotificationChannel, SecretKeyRef } from '../api/types.js';
import { matchesRequirements } from '../planner/selector.js';
import { cloudEvent, emailText, slackMessage } from './messages.js';
import { sendMail } from './smtp.js';
import type { RolloutNotification } from './transitions.js';

/** Reads one key of a Secret in a namespace: its decoded text, or undefined when missing. */
export type SecretLookup = (namespace: string, ref: SecretKeyRef) => Promise<string | undefined>;

/** A delivery attempt that failed; `message` is safe to show (no URL, no secret). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** CamelCase reason for the channel's Ready condition. */
    readonly reason: 'SecretNotFound' | 'DeliveryFailed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Header carrying the webhook signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'X-Fleet-Rollout-Signature';

/** Whether `channel` takes `notification`: same namespace, not suspended, event and rollout match. */
export function channelTakes(channel: NotificationChannel, n: RolloutNotification): boolean {
  const { spec, metadata } = channel;
  if (metadata.namespace !== n.namespace || spec.suspend) return false;
  if (spec.events && spec.events.length > 0 && !spec.events.includes(n.event)) return false;
  const scope = spec.rollouts ?? {};
  if (scope.policies?.length && !scope.policies.includes(n.policy)) return false;
  if (scope.names?.length && !scope.names.includes(n.name)) return false;
  const selector = scope.selector;
  if (selector) {
    const wanted = Object.entries(selector.matchLabels ?? {});
    if (!wanted.every(([key, value]) => n.labels[key] === value)) return false;
    if (!matchesRequirements(selector.matchExpressions ?? [], n.labels)) return false;
  }
  return true;
}

/**
 * `t=<unix seconds>,v1=<hex>`: HMAC-SHA256 with `key` over `<t>.<body>` (the exact bytes sent).
 * A receiver recomputes it, compares in constant time and refuses old timestamps.
 */
export function signature(key: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', key).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a send needs besides the channel and the notification. */
export interface SendDeps {
  secret: SecretLookup;
  now(): Date;
  timeoutMs?: number;
}

/** Delivers `n` through `channel`; resolves once the receiver accepted it, else DeliveryError. */
export async function deliver(
  channel: NotificationChannel,
  n: RolloutNotification,
  deps: SendDeps,
): Promise<void> {
  const { spec } = channel;
  const namespace = channel.metadata.namespace ?? '';
  const need = async (ref: SecretKeyRef, fallbackKey: string) => {
    const full = { name: ref.name, key: ref.key ?? fallbackKey };
    const value = await deps.secret(namespace, full);
    if (value === undefined) {
      throw new DeliveryError(
        `Secret ${namespace}/${full.name} has no key ${JSON.stringify(full.key)}`,
        'SecretNotFound',
      );
    }
    return value;
  };
  if (spec.slack) {
    const url = (await need(spec.slack.webhookURLSecretRef, 'url')).trim();
    await post(url, JSON.stringify(slackMessage(n)), 'application/json', n.key, {}, deps, 'Slack');
  } else if (spec.webhook) {
    const body = JSON.stringify(cloudEvent(n));
    const key =
      spec.webhook.signingSecretRef && (await need(spec.webhook.signingSecretRef, 'secret'));
    const seconds = Math.floor(deps.now().getTime() / 1000);
    const headers: Record<string, string> = key
      ? { [SIGNATURE_HEADER]: signature(key, body, seconds) }
      : {};
    const type = 'application/cloudevents+json; charset=utf-8';
    await post(spec.webhook.url, body, type, n.key, headers, deps, 'webhook');
  } else if (spec.email) {
    await email(spec.email, n, deps, need);
  }
}

async function email(
  email: NonNullable<NotificationChannel['spec']['email']>,
  n: RolloutNotification,
  deps: SendDeps,
  need: (ref: SecretKeyRef, key: string) => Promise<string>,
) {
  const auth = email.authSecretRef && {
    username: await need({ name: email.authSecretRef.name, key: 'username' }, 'username'),
    password: await need({ name: email.authSecretRef.name, key: 'password' }, 'password'),
  };
  const ca = email.caSecretRef && (await need(email.caSecretRef, 'ca.crt'));
  const { subject, body } = emailText(n);
  try {
    await sendMail(
      {
        host: email.host,
        port: email.port ?? 587,
        tls: email.tls ?? 'StartTLS',
        ...(ca ? { ca } : {}),
        ...(auth ? { auth } : {}),
        timeoutMs: deps.timeoutMs ?? 30_000,
      },
      {
        from: email.from,
        to: email.to,
        subject,
        body,
        messageId: `${n.key.replaceAll('/', '.')}@fleet-rollout.iotistic.io`,
        date: deps.now(),
      },
    );
  } catch (error) {
    throw new DeliveryError(
      `SMTP ${email.host}:${email.port ?? 587}: ${reason(error)}`,
      'DeliveryFailed',
      {
        cause: error,
      },
    );
  }
}

async function post(
  url: string,
  body: string,
  contentType: string,
  idempotencyKey: string,
  headers: Record<string, string>,
  deps: SendDeps,
  what: string,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body,
      redirect: 'manual',
      headers: {
        'content-type': contentType,
        'idempotency-key': idempotencyKey,
        'user-agent': 'fleet-rollout',
        ...headers,
      },
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new DeliveryError(`${what}: ${reason(error)}`, 'DeliveryFailed', { cause: error });
  }
  const text = (await response.text().catch(() => '')).slice(0, 200);
  if (response.status < 200 || response.status > 299) {
    throw new DeliveryError(`${what} answered HTTP ${response.status}: ${text}`, 'DeliveryFailed');
  }
}

/** The innermost cause's message, without URLs (a Slack URL is a credential). */
function reason(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  const message = current instanceof Error ? current.message : String(current);
  return message.replace(/https?:\/\/\S+/g, '<url>');
}
