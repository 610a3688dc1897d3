#!/usr/bin/env node
// The kubectl plugin (`kubectl fleet …`; kubectl finds `kubectl-fleet` on the PATH). Installed
// from npm, the package holds the compiled code (dist/, built by `npm pack`'s prepack). In a
// checkout (src/ is there) the TypeScript sources run through tsx, a devDependency that `npm ci`
// installs, so it works without a build and never runs stale compiled code.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const source = new URL('../src/plugin/main.ts', import.meta.url);
const compiled = new URL('../dist/plugin/main.js', import.meta.url);

if (existsSync(source) && tsxInstalled()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  process.stderr.write(
    'kubectl-fleet: neither dist/plugin/main.js nor tsx is installed: run `npm ci` (or `npm run build`)\n',
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
