import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from '../db/private-dir.js';
import { generateApiKey } from './credentials.js';

/** Where `start` keeps the admin token it generated. */
export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

/**
 * The configured admin token, or the one stored under the data dir (generated on first use,
 * written with mode 0600); `file` says where it is, undefined when configured.
 */
export async function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
): Promise<{ token: string; file: string | undefined }> {
  if (configured !== undefined) return { token: configured, file: undefined };
  const file = adminTokenPath(dataDir);
  try {
    await writePrivateFile(file, `${generateApiKey()}\n`, { exclusive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new Error(`write admin token to ${file}`, { cause: error });
    }
  }
  const token = (await readFile(file, 'utf8')).trim();
  if (token.length < 16) throw new Error(`admin token in ${file} is shorter than 16 characters`);
  return { token, file };
}
