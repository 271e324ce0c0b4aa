#!/usr/bin/env node
// Fails when a package imports upward, across, in a cycle, through a relative path out of its own
// folder, or without declaring what it imports (rules: scripts/layering/check.mjs). Run by
// scripts/test.sh before the tests; `node scripts/check-imports.mjs [root]` on its own.
import { fileURLToPath } from 'node:url';
import { checkLayering, formatFindings } from './layering/check.mjs';

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const findings = checkLayering(root);
if (findings.length) {
  process.stderr.write(`${formatFindings(findings)}\n`);
  process.stderr.write(`check-imports: ${findings.length} layering problem(s); see CONTRIBUTING.md\n`);
  process.exit(1);
}
process.stdout.write('check-imports: every package imports only what it declares, down the layer table\n');
