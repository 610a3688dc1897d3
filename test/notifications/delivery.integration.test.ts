import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NotificationChannel, NotificationChannelSpec } from '../../src/api/types.js';
import { queryRows } from '../../src/db/rows.js';
import { clientOf } from '../support/apiserver.js';
import { spawnControllerChild } from '../support/controller-process.js';
import { type Engine, startEngine } from '../support/engine.js';
import { startHttpReceivers, startSmtpServer } from '../support/notification-receivers.js';

const SIGNING_KEY = 'whsec-test-0123456789';
const OLD = 'docker.io/library/nginx:1.27';

/**
 * Notifications end to end on Postgres: the controller (a child process) is killed right after
 * it committed batch 1's start with its outbox row and before anything was sent; after a restart
 * every transition reaches Slack, a signed CloudEvents webhook, a flaky webhook (500, then 200)
 * and email (aiosmtpd, STARTTLS and AUTH) — exactly once per idempotency key after dedup; a
 * channel whose receiver is down shows it in its status and in a metric.
 */
describe('notifications', () => {
  let engine: Engine;
  let http: Awaited<ReturnType<typeof startHttpReceivers>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const secret = (name: string, stringData: Record<string, string>) =>
    clientOf(engine.server).post('/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
      stringData,
    });
  const channel = (name: string, spec: NotificationChannelSpec) =>
    engine.kube.notificationChannels.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'NotificationChannel',
      metadata: { name, namespace: 'default' },
      spec,
    });

  beforeAll(async () => {
    engine = await startEngine('postgres', { controller: false, resyncMs: 1_000 });
    http = await startHttpReceivers(SIGNING_KEY);
    smtp = await startSmtpServer('fleet', 'mail-password');
    await secret('slack', { url: `${http.url}/slack` });
    await secret('signing', { secret: SIGNING_KEY });
    await secret('smtp', { username: 'fleet', password: 'mail-password', 'ca.crt': smtp.ca });
    await channel('slack', { type: 'Slack', slack: { webhookURLSecretRef: { name: 'slack' } } });
    await channel('hook', {
      type: 'Webhook',
      webhook: { url: `${http.url}/hook`, signingSecretRef: { name: 'signing' } },
    });
    await channel('flaky', {
      type: 'Webhook',
      events: ['Started', 'Succeeded'],
      webhook: { url: `${http.url}/flaky` },
    });
    await channel('down', {
      type: 'Webhook',
      events: ['Started'],
      webhook: { url: `${http.url}/down` },
    });
    await channel('other-policy', {
      type: 'Webhook',
      rollouts: { policies: ['another'] },
      webhook: { url: `${http.url}/other` },
    });
    await channel('mail', {
      type: 'Email',
      events: ['Started', 'Succeeded'],
      email: {
        host: '127.0.0.1',
        port: smtp.port,
        tls: 'StartTLS',
        caSecretRef: { name: 'smtp' },
        authSecretRef: { name: 'smtp' },
        from: 'fleet-rollout@example.com',
        to: ['ops@example.com'],
      },
    });
    await engine.policy('web', {
      selector: { fleets: ['sim'] },
      strategy: { batches: [50, 100], interval: '1s' },
      health: { soakTime: '0s', offlineAfter: '60s', progressDeadline: '120s' },
    });
    await engine.simulate({
      register: { count: 6, fleet: 'sim', apps: { web: { services: { nginx: { image: OLD } } } } },
      seed: 'notify',
    });
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
    await http?.close();
    await smtp?.close();
  });

  const outbox = () =>
    queryRows<{ key: string; delivered: number }>(
      engine.database.db,
      sql`select o.key, count(d.delivered_at)::int as delivered
          from notification_outbox o left join notification_deliveries d on d.notification_id = o.id
          group by o.key order by o.key`,
    );

  it('loses nothing to a crash between the state change and the send', {
    timeout: 120_000,
  }, async () => {
    const rollout = await engine.rollout('web-1-28', { policy: 'web' });
    const uid = rollout.metadata.uid;
    const first = spawnControllerChild(engine, { on: 'effect-StartBatch' });
    expect(await first.exited, first.stderr()).toBe('SIGKILL');
    // Batch 1 started in Postgres with its outbox row; the status does not say so and nothing
    // about it was sent.
    expect((await outbox()).map((row) => row.key)).toContain(`${uid}/BatchStarted/1`);
    expect((await engine.get('web-1-28')).status?.currentBatch ?? 0).toBe(0);
    expect(http.received.filter((r) => r.key === `${uid}/BatchStarted/1`)).toEqual([]);

    const second = spawnControllerChild(engine);
    await engine
      .until('web-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'), 60_000)
      .catch(async (error) => {
        console.log(
          JSON.stringify((await engine.get('web-1-28')).status),
          second.stderr(),
          first.stderr(),
        );
        throw error;
      });
    const keys = ['Started', 'BatchStarted/1', 'BatchStarted/2', 'Succeeded'].map(
      (k) => `${uid}/${k}`,
    );
    await vi.waitFor(
      () => {
        expect(
          http
            .accepted('/slack')
            .map((r) => r.key)
            .sort(),
        ).toEqual([...keys].sort());
        expect(
          http
            .accepted('/hook')
            .map((r) => r.key)
            .sort(),
        ).toEqual([...keys].sort());
        expect(
          http
            .accepted('/flaky')
            .map((r) => r.key)
            .sort(),
        ).toEqual([keys[0], keys[3]].sort());
        expect(smtp.messages).toHaveLength(2);
      },
      { timeout: 30_000, interval: 200 },
    );
    second.process.kill('SIGTERM');
    await second.exited;

    // One outbox row per transition; every delivery but the down channel's was made once.
    expect((await outbox()).map((row) => row.key).sort()).toEqual([...keys].sort());
    expect(http.received.filter((r) => r.path === '/other')).toEqual([]);
    // The flaky receiver saw each key twice (500, then 200) and keeps one.
    const flaky = http.received.filter((r) => r.path === '/flaky');
    expect(flaky.map((r) => r.status)).toEqual([500, 200, 500, 200]);
    expect(flaky[0]?.key).toBe(flaky[1]?.key);
  });

  it('sends a readable Slack message', () => {
    const batch = http.accepted('/slack').find((r) => r.key.endsWith('/BatchStarted/2'));
    const text = JSON.stringify(batch?.body);
    expect(batch?.body.text).toMatch(
      /^Batch started: default\/web-1-28 \(docker\.io\/library\/nginx:1\.28\)/,
    );
    expect(text).toContain('batch 2/2');
    expect(text).toContain('kubectl describe imagerollout -n default web-1-28');
    expect(batch?.body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Batch started: web-1-28' },
    });
    const fields = batch?.body.blocks[1].fields.map((f: { text: string }) => f.text);
    expect(fields).toContain('*Batch*\n2/2');
    expect(fields).toContain('*Image*\n`docker.io/library/nginx:1.28`');
  });

  it('posts signed CloudEvents 1.0 in structured mode to the webhook', () => {
    const [started] = http.accepted('/hook').filter((r) => r.key.endsWith('/Started'));
    expect(started?.signed).toBe(true);
    expect(started?.contentType).toBe('application/cloudevents+json; charset=utf-8');
    expect(started?.body).toMatchObject({
      specversion: '1.0',
      id: started?.key,
      type: 'io.iotistic.fleet.rollout.started',
      source: '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagerollouts/web-1-28',
      subject: 'default/web-1-28',
      datacontenttype: 'application/json',
      data: { event: 'Started', name: 'web-1-28', image: 'docker.io/library/nginx:1.28' },
    });
    const succeeded = http.accepted('/hook').find((r) => r.key.endsWith('/Succeeded'));
    expect(succeeded?.body.type).toBe('io.iotistic.fleet.rollout.succeeded');
    expect(succeeded?.body.data).toMatchObject({
      devices: 6,
      healthy: 6,
      failed: 0,
      batch: 2,
      batches: 2,
    });
  });

  it('mails over STARTTLS with AUTH, the idempotency key as Message-ID', () => {
    const [mail] = smtp.messages;
    expect(mail).toMatchObject({
      from: 'fleet-rollout@example.com',
      to: ['ops@example.com'],
      user: 'fleet',
      tls: true,
    });
    expect(mail?.data).toMatch(
      /^Subject: \[fleet-rollout\] Rollout (started|succeeded): default\/web-1-28/m,
    );
    expect(mail?.data).toMatch(
      /^Message-ID: <[0-9a-f-]{36}\.(Started|Succeeded)@fleet-rollout\.iotistic\.io>/m,
    );
  });

  it('shows a failing channel in its status, Events and metrics', { timeout: 60_000 }, async () => {
    const running = engine.startController();
    try {
      const failing = await vi.waitFor(
        async () => {
          const down = (await engine.kube.notificationChannels.get(
            'default',
            'down',
          )) as NotificationChannel;
          expect(down.status?.consecutiveFailures).toBeGreaterThanOrEqual(2);
          return down;
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(failing.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'False',
        reason: 'DeliveryFailed',
      });
      expect(failing.status?.lastError).toContain('webhook answered HTTP 503');
      await vi.waitFor(
        async () => {
          const metrics = await running.registry.metrics();
          expect(metrics).toMatch(
            /fleet_rollout_notification_deliveries_total\{channel_namespace="default",channel="down",type="Webhook",outcome="failed"\} [1-9]/,
          );
          expect(metrics).toMatch(
            /fleet_rollout_notification_channel_consecutive_failures\{channel_namespace="default",channel="down",type="Webhook"\} [1-9]/,
          );
        },
        { timeout: 30_000, interval: 200 },
      );
      const events = await engine.events('down');
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'Warning', reason: 'DeliveryFailed' }),
      );
      const healthy = await engine.kube.notificationChannels.get('default', 'hook');
      await vi.waitFor(async () => {
        const hook = await engine.kube.notificationChannels.get('default', 'hook');
        expect(hook?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      });
      expect(healthy?.status?.consecutiveFailures ?? 0).toBe(0);
    } finally {
      await running.stop();
    }
  });
});
