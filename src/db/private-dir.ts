import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/*
 * The data directory holds the embedded database, the admin and API server tokens, the
 * kubeconfig and the serving key: nothing in it is for anyone but the user running the product.
 * The process runs with umask 077 (see main.ts), but PGlite writes its initial files with
 * explicit modes (0666, 0644) whatever the umask, so the tree is also made private after PGlite
 * opens and closes, which also repairs a directory an earlier version left readable.
 */

/** Mode of every directory under the data directory. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file under the data directory. */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) and makes it 0700, whatever mode it had. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Writes a file only its owner can read (0600, also when it existed with another mode) in a
 * private directory. With `exclusive`, fails with EEXIST instead of replacing a file.
 */
export async function writePrivateFile(
  path: string,
  content: string,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  ensurePrivateDir(dirname(path));
  await writeFile(path, content, {
    mode: PRIVATE_FILE_MODE,
    flag: options.exclusive ? 'wx' : 'w',
  });
  await chmod(path, PRIVATE_FILE_MODE);
}

/**
 * Makes `dir` and everything under it private: directories 0700, files 0600. Symbolic links are
 * neither followed nor changed; entries that vanish meanwhile (a database at work) are skipped.
 */
export function makeTreePrivate(dir: string): void {
  const pending = [dir];
  while (pending.length > 0) {
    const path = pending.pop() as string;
    const stats = lstatOrUndefined(path);
    if (!stats || stats.isSymbolicLink()) continue;
    const mode = stats.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
    if ((stats.mode & 0o777) !== mode) chmodUnlessGone(path, mode);
    if (stats.isDirectory()) {
      for (const name of readdirUnlessGone(path)) pending.push(join(path, name));
    }
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (error) {
    if (gone(error)) return undefined;
    throw new Error(`make ${path} private`, { cause: error });
  }
}

function chmodUnlessGone(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (error) {
    if (!gone(error)) throw new Error(`make ${path} private`, { cause: error });
  }
}

function readdirUnlessGone(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (error) {
    if (gone(error)) return [];
    throw new Error(`make ${path} private`, { cause: error });
  }
}

function gone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
