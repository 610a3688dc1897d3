import type { Db } from '../db/client.js';
import { findDeviceByKeyHash, getDevice } from '../db/device-store.js';
import { hashApiKey } from './credentials.js';
import { forbidden, unauthorized, unknownDevice } from './problems.js';
import { UUID_PATTERN } from './schemas.js';

const UUID = new RegExp(UUID_PATTERN);

/**
 * Device authentication against the database, for paths off the hot one (cache misses, wrong
 * keys, reports): tells 401, 403 and 404 apart.
 */
export class DeviceAuth {
  constructor(private readonly db: Db) {}

  /** The uuid of the device the key belongs to; 401 without a known key. */
  async ownerOf(token: string | undefined): Promise<string> {
    const owner =
      token === undefined ? undefined : await findDeviceByKeyHash(this.db, hashApiKey(token));
    if (owner === undefined) throw unauthorized('device API key');
    return owner;
  }

  /** Passes when `claimed` is the owner; 403 for another existing device, 404 otherwise. */
  async requireOwner(owner: string, claimed: string): Promise<void> {
    if (owner === claimed.toLowerCase()) return;
    if (UUID.test(claimed) && (await getDevice(this.db, claimed.toLowerCase()))) {
      throw forbidden(claimed);
    }
    throw unknownDevice(claimed);
  }
}
