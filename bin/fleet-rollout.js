#!/usr/bin/env node
// The installed binary runs the compiled code (npm run build); from a checkout use `npx tsx src/main.ts`.
import '../dist/main.js';
