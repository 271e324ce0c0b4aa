export { main, topLevelHelp } from './main.js';
export {
  defineCommand,
  formatHelp,
  parseCommandArgs,
  UsageError,
  type Command,
  type CommandIO,
  type OptionSpec,
  type OptionTable,
  type ParsedOptions,
} from './command.js';
