#!/usr/bin/env node
import { runPlugin } from './run.js';

// `kubectl fleet …` runs this as `kubectl-fleet …`: the arguments after the plugin's name.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
process.exitCode = await runPlugin(process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  env: process.env,
  signal: stop.signal,
  now: () => new Date(),
});
