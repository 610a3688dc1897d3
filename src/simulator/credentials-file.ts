import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../config.js';
import type { DeviceCredentials } from './options.js';

/*
 * The credentials file of `simulate --credentials` / `--save-credentials`: one device a line,
 * `uuid,apiKey` (a comma or whitespace between them); blank lines and `#` comments are ignored.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY = /^[A-Za-z0-9_\-.~+/=]{1,512}$/;

/** Parses a credentials file; throws ConfigError naming the first bad line. */
export function parseCredentials(text: string, source = 'credentials'): DeviceCredentials[] {
  const devices: DeviceCredentials[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [uuid = '', apiKey = '', ...extra] = line.split(/[\s,]+/);
    const where = `${source} line ${index + 1}`;
    if (!UUID.test(uuid)) throw new ConfigError(`${where}: "${uuid}" is not a device uuid`);
    if (!KEY.test(apiKey) || extra.length > 0) {
      throw new ConfigError(`${where}: expected "uuid,apiKey"`);
    }
    if (seen.has(uuid.toLowerCase())) throw new ConfigError(`${where}: device ${uuid} again`);
    seen.add(uuid.toLowerCase());
    devices.push({ uuid: uuid.toLowerCase(), apiKey });
  });
  return devices;
}

/** Formats credentials the way parseCredentials reads them. */
export function formatCredentials(devices: readonly DeviceCredentials[]): string {
  const lines = devices.map(({ uuid, apiKey }) => `${uuid},${apiKey}\n`);
  return `# uuid,apiKey of simulated devices (secret: anyone with a key can act as the device)\n${lines.join('')}`;
}

/** Reads and parses a credentials file; a missing or bad file is a ConfigError. */
export async function readCredentialsFile(file: string): Promise<DeviceCredentials[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read credentials file ${file}`, { cause });
  }
  return parseCredentials(text, file);
}

/** Writes credentials readable by the owner only; refuses to overwrite an existing file. */
export async function writeCredentialsFile(file: string, devices: readonly DeviceCredentials[]) {
  try {
    await writeFile(file, formatCredentials(devices), { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    throw new Error(`write credentials to ${file}`, { cause });
  }
}
