#!/usr/bin/env node
// The `sprout` command. Runs the built CLI; `npm run build` (or scripts/setup.sh) builds it.
import { main } from '../dist/main.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
if (code !== 0) process.exitCode = code;
