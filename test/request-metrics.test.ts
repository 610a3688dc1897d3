import { describe, expect, it } from 'vitest';
import { routeTimer } from '../src/http/request-metrics.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';

describe('routeTimer', () => {
  it('exports a Prometheus histogram per route, method and status', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const poll = routeTimer(registry, '/poll/:id');
    const now = performance.now();
    poll('GET', 304, now); // ~0 s
    poll('GET', 304, now - 2); // 2 ms
    poll('GET', 200, now - 400_000); // 400 s, beyond the last bound
    routeTimer(registry, '/other')('POST', 201, now);
    const text = await registry.metrics();
    const line = (name: string, labels: string) =>
      Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const poll304 = 'route="/poll/:id",method="GET",status="304"';
    expect(text).toContain('# TYPE fleet_rollout_http_request_duration_seconds histogram');
    expect(
      line('fleet_rollout_http_request_duration_seconds_bucket', `${poll304},le="0.0005"`),
    ).toBe(1);
    expect(
      line('fleet_rollout_http_request_duration_seconds_bucket', `${poll304},le="0.001"`),
    ).toBe(1);
    expect(
      line('fleet_rollout_http_request_duration_seconds_bucket', `${poll304},le="0.0025"`),
    ).toBe(2);
    expect(
      line('fleet_rollout_http_request_duration_seconds_bucket', `${poll304},le="\\+Inf"`),
    ).toBe(2);
    expect(line('fleet_rollout_http_request_duration_seconds_count', poll304)).toBe(2);
    expect(line('fleet_rollout_http_request_duration_seconds_sum', poll304)).toBeCloseTo(0.002, 3);
    const poll200 = 'route="/poll/:id",method="GET",status="200"';
    expect(line('fleet_rollout_http_request_duration_seconds_bucket', `${poll200},le="300"`)).toBe(
      0,
    );
    expect(
      line('fleet_rollout_http_request_duration_seconds_bucket', `${poll200},le="\\+Inf"`),
    ).toBe(1);
    expect(
      line(
        'fleet_rollout_http_request_duration_seconds_count',
        'route="/other",method="POST",status="201"',
      ),
    ).toBe(1);
    registry.resetMetrics();
    expect(await registry.metrics()).toMatch(
      /_count\{route="\/poll\/:id",method="GET",status="304"\} 0/,
    );
  });
});
