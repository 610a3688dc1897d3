// How each binary of the package starts. Installed from npm, the package holds the compiled code
// (dist/, built by `npm pack`'s prepack). In a checkout (src/ is there) the TypeScript sources
// run through tsx, a devDependency that `npm ci` installs, so a binary works without a build and
// never runs stale compiled code.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Runs `src/<entry>.ts` through tsx when present, else `dist/<entry>.js`; `name` is the binary's
 * name for the message when neither can run.
 */
export async function launch(name, entry) {
  const source = new URL(`../src/${entry}.ts`, import.meta.url);
  const compiled = new URL(`../dist/${entry}.js`, import.meta.url);
  if (existsSync(source) && tsxInstalled()) {
    const { register } = await import('tsx/esm/api');
    register();
    await import(source.href);
  } else if (existsSync(compiled)) {
    await import(compiled.href);
  } else {
    process.stderr.write(
      `${name}: neither dist/${entry}.js nor tsx is installed: run \`npm ci\` (or \`npm run build\`)\n`,
    );
    process.exitCode = 1;
  }
}

function tsxInstalled() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}
