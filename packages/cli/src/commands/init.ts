import { relative, resolve } from 'node:path';
import { defineCommand, UsageError } from '../command.js';
import { initReport } from '../init/report.js';
import { scaffold } from '../init/scaffold.js';
import { isTemplateName, TEMPLATES } from '../init/templates.js';

const width = Math.max(...Object.keys(TEMPLATES).map((t) => t.length));
const templateList = Object.entries(TEMPLATES)
  .map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`)
  .join('\n');

export default defineCommand({
  name: 'init',
  summary: 'Create a function folder from a template: code, function.yaml, a test and package.json',
  usage: 'sprout init [dir] [--template NAME] [--force]',
  details: `
Writes a runnable function into dir (default: the current folder; created when missing): the code,
a function.yaml (OpenFunction Function, read by sprout dev, run and deploy), a test using
@sprout/framework/testing, a package.json and a README. The function is named after the folder, as
a DNS label ('My Func' becomes my-func). Other files in the folder are left alone; when a file the
template writes is already there, init writes nothing and fails with SPROUT_ERR_CLI_INIT_EXISTS,
unless --force.

Templates:
${templateList}

Examples:
  sprout init hello                        then: sprout dev hello
  sprout init orders --template state
  sprout init . --template typescript --force
`,
  options: {
    template: {
      type: 'string',
      short: 't',
      default: 'http',
      value: 'NAME',
      description: `Template: ${Object.keys(TEMPLATES).join(', ')}`,
    },
    force: {
      type: 'boolean',
      description: 'Overwrite the files the template writes when they already exist',
    },
  },
  run(opts, positionals, io) {
    if (positionals.length > 1)
      throw new UsageError(`one folder at a time, got ${positionals.length}: ${positionals.join(' ')}`);
    if (!isTemplateName(opts.template)) {
      throw new UsageError(
        `unknown template '${opts.template}': use one of ${Object.keys(TEMPLATES).join(', ')}`,
      );
    }
    const dir = resolve(io.cwd, positionals[0] ?? '.');
    const shown = relative(io.cwd, dir) || '.';
    const done = scaffold({ dir, shown, template: opts.template, force: opts.force });
    io.stdout.write(initReport(opts.template, TEMPLATES[opts.template], done, shown));
    return 0;
  },
});
