#!/usr/bin/env node
// The fleet-rollout binary: every role and the simulator (see bin/launch.js for how it starts).
import { launch } from './launch.js';

await launch('fleet-rollout', 'main');
