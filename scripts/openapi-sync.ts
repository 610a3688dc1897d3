import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { servedDocument, startProductServer } from '../test/support/product-server.js';

/*
 * `npm run openapi:sync`: starts the product as `fleet-rollout start` runs it (every role, so
 * every route of every API on its one port) and writes the OpenAPI document it serves to
 * docs/openapi.json (formatted as biome prints JSON). test/openapi/openapi.test.ts fails while the
 * two disagree.
 */
const OUT = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

const server = await startProductServer();
try {
  await writeFile(OUT, await servedDocument(server.url));
  execFileSync('npx', ['biome', 'format', '--write', OUT], { stdio: 'ignore' });
  process.stdout.write(`openapi:sync: wrote ${OUT}\n`);
} finally {
  await server.stop();
}
