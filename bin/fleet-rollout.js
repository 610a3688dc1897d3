#!/usr/bin/env node
// Installed from npm, the package holds the compiled code (dist/, built by `npm pack`'s prepack).
// In a checkout (src/ is there) the TypeScript sources run through tsx, a devDependency that
// `npm ci` installs, so the binary works without a build and never runs stale compiled code.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const source = new URL('../src/main.ts', import.meta.url);
const compiled = new URL('../dist/main.js', import.meta.url);

if (existsSync(source) && tsxInstalled()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    'fleet-rollout: neither dist/main.js nor tsx is installed: run `npm ci` (or `npm run build`)\n',
  );
  process.exitCode = 1;
}

function tsxInstalled() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}
