#!/usr/bin/env node
// The kubectl plugin (`kubectl fleet …`; kubectl finds `kubectl-fleet` on the PATH). See
// bin/launch.js for how it starts: from a checkout right after `npm ci`, or installed.
import { launch } from './launch.js';

await launch('kubectl-fleet', 'plugin/main');
