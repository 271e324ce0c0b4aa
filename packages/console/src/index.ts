// The public API of @sprout/console: the console as a site a server mounts (sprout dev), or on a
// listener of its own (sprout console), with the one auth layer's accounts and sessions.
export { createConsole, type ConsoleOptions, type ConsoleSite } from './console.js';
export { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from './server.js';
export type { ConsoleRoutes } from './routes.js';
export { ConsoleError, CONSOLE_ERROR_CODES, type ConsoleErrorCode } from './errors.js';
export { ACCOUNTS_FILE } from './auth/accounts.js';
