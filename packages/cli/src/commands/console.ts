import { resolve } from 'node:path';
import { untilSignal } from '@sprout/http';
import { createLogger } from '@sprout/observe';
import { defineCommand, UsageError } from '../command.js';
import { announceConsole } from '../console-site.js';

export default defineCommand({
  name: 'console',
  summary: 'Serve the web console alone (the KubeKey cluster installer, without a running platform)',
  usage: 'sprout console [options]',
  details: `
Serves the web console on its own listener, for cluster work where no 'sprout dev' runs: the
Clusters pages (KubeKey configs, SSH pre-flight, kk runs) and sign-in. 'sprout dev' serves the same
console on its API port, with the function pages. Both use the same --data-dir accounts: the first
start creates the admin with a generated password printed once (or SPROUT_ADMIN_PASSWORD), kept
scrypt-hashed in <data-dir>/console-accounts.json (0600). The URL and a one-time sign-in link are
printed at start. Scripts send Authorization: Bearer with <data-dir>/api-token or an API token made
in the console. Loopback only unless --host says otherwise; see SECURITY.md.

Examples:
  sprout console                       http://127.0.0.1:9191/
  sprout console --port 0              a free port
  SPROUT_ADMIN_PASSWORD=... sprout console --data-dir /var/lib/sprout
`,
  options: {
    port: {
      type: 'string',
      env: 'SPROUT_CONSOLE_PORT',
      default: '9191',
      value: 'PORT',
      description: 'Port of the console (0 picks a free one)',
    },
    host: {
      type: 'string',
      value: 'ADDR',
      description: 'Address to listen on (default 127.0.0.1: this machine only)',
    },
    'data-dir': {
      type: 'string',
      env: 'SPROUT_DATA_DIR',
      default: '.sprout',
      value: 'DIR',
      description: 'Folder of the accounts file, the API token and the saved clusters',
    },
  },
  async run(opts, positionals, io) {
    if (positionals.length)
      throw new UsageError(`sprout console takes no arguments, got '${positionals[0]}'`);
    const port = Number(opts.port);
    if (!/^\d{1,5}$/.test(opts.port) || port > 65535) {
      throw new UsageError(`--port must be a port 0-65535, got '${opts.port}'`);
    }
    const logger = createLogger({ name: 'sprout' });
    const { startConsoleServer } = await import('@sprout/console');
    const server = await startConsoleServer({
      dataDir: resolve(io.cwd, opts['data-dir']),
      logger,
      port,
      ...(opts.host ? { host: opts.host } : {}),
      ...(io.env.SPROUT_ADMIN_PASSWORD ? { adminPassword: io.env.SPROUT_ADMIN_PASSWORD } : {}),
    });
    announceConsole(logger, server.site, `${server.url}/`);
    const signal = await untilSignal();
    logger.info({ signal }, 'shutting down');
    await server.close();
    return 0;
  },
});
