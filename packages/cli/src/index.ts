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
export { CliError, CLI_ERROR_CODES, type CliErrorCode } from './errors.js';
