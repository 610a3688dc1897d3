import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeviceApiWatch } from '../../src/controller/device-api-watch.js';
import { beat, stopBeating } from '../../src/db/heartbeat-store.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('DeviceApiWatch', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
  });
  afterAll(() => test?.drop());

  it('wakes the controller when the device API goes away and when it is back, once each', async () => {
    const db = test.database.db;
    await beat(db, 'only', 60_000);
    const changed = vi.fn();
    const watch = new DeviceApiWatch(test.database, silentLogger(), changed, 20);
    watch.start();
    try {
      await stopBeating(db, 'only');
      await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(1));
      expect(changed).toHaveBeenLastCalledWith(false);
      await beat(db, 'next', 60_000);
      await vi.waitFor(() => expect(changed).toHaveBeenCalledTimes(2));
      expect(changed).toHaveBeenLastCalledWith(true);
      // a steady heartbeat changes nothing more
      const checks = vi.spyOn(test.database.db, 'execute');
      await vi.waitFor(() => expect(checks.mock.calls.length).toBeGreaterThan(3));
      checks.mockRestore();
      expect(changed).toHaveBeenCalledTimes(2);
    } finally {
      watch.stop();
    }
  });
});
