import { defineCommand } from '../command.js';
import { frameworkOptions, runFunctions } from './run.js';

export default defineCommand({
  name: 'dev',
  summary: 'Serve functions on one machine and reload them when files change',
  usage: 'sprout dev [dir...] [options]',
  details: `
Serves one or more function folders and reloads a function when its files change, without
dropping requests in flight. With several folders each is mounted at /<folder name>.

Examples:
  sprout dev examples/hello          then: curl localhost:8080/
  sprout dev fn-a fn-b --port 3000   then: curl localhost:3000/fn-a
`,
  options: frameworkOptions,
  run: (opts, positionals, io) => runFunctions(opts, positionals.length ? positionals : ['.'], io, true),
});
