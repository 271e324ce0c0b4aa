import { resolve } from 'node:path';
import { createLogger } from '@sprout/observe';
import { createStateApiServer, isStateError, loadComponents, StateError, StateStores } from '@sprout/state';
import { defineCommand, UsageError, type Command } from '../command.js';
import { untilSignal } from '@sprout/http';

const serve = defineCommand({
  name: 'state serve',
  summary: 'Serve the Dapr state HTTP API over the state components in a folder',
  usage: 'sprout state serve --resources-path DIR [--app-id ID] [--dapr-http-port 3500]',
  options: {
    'resources-path': {
      type: 'string',
      env: 'SPROUT_RESOURCES_PATH',
      value: 'DIR',
      description: 'Folder of Dapr Component YAML (every state.* component in it is served)',
    },
    'app-id': {
      type: 'string',
      env: 'APP_ID',
      default: 'sprout',
      value: 'ID',
      description: 'App id: the default key prefix (appid||key) and the scopes filter',
    },
    'dapr-http-port': {
      type: 'string',
      env: 'DAPR_HTTP_PORT',
      default: '3500',
      value: 'PORT',
      description: 'Port of the Dapr HTTP API (0 picks a free one)',
    },
    'listen-address': {
      type: 'string',
      default: '127.0.0.1',
      value: 'ADDR',
      description: 'Address to bind',
    },
    'data-dir': {
      type: 'string',
      env: 'SPROUT_DATA_DIR',
      default: '.sprout',
      value: 'DIR',
      description: 'Folder of embedded stores (SQLite files go in DIR/state/)',
    },
    namespace: {
      type: 'string',
      env: 'NAMESPACE',
      value: 'NS',
      description: 'Namespace for keyPrefix: namespace (default: default)',
    },
    'max-body-size': {
      type: 'string',
      default: '4',
      value: 'MIB',
      description: 'Largest request body in MiB (413 above it)',
    },
  },
  details: `
Reads every Dapr Component YAML in DIR (as 'dapr run --resources-path' does) and serves
POST/GET/DELETE /v1.0/state/{store}[/{key}], /bulk, /transaction and /v1.0-alpha1/state/{store}/query.
Engines: state.sqlite (embedded), state.redis, state.postgresql, state.in-memory.
With DAPR_API_TOKEN set, every request must carry it in the dapr-api-token header.

Example:
  sprout state serve --resources-path ./components --app-id orders
  curl -X POST localhost:3500/v1.0/state/statestore -d '[{"key":"o1","value":{"total":3}}]'
  curl localhost:3500/v1.0/state/statestore/o1`,
  async run(opts, _positionals, io) {
    const dir = opts['resources-path'];
    if (!dir)
      throw new UsageError(
        "--resources-path is required: a folder of Dapr Component YAML (see 'sprout state serve --help')",
      );
    const port = Number(opts['dapr-http-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--dapr-http-port must be a port number, got '${opts['dapr-http-port']}'`);
    const mib = Number(opts['max-body-size']);
    if (!(mib > 0))
      throw new UsageError(
        `--max-body-size must be a positive number of MiB, got '${opts['max-body-size']}'`,
      );
    const appId = opts['app-id'];
    const components = loadComponents(resolve(io.cwd, dir), { appId, env: io.env });
    if (!components.length) throw new UsageError(`no state components (spec.type state.*) found in ${dir}`);
    const log = createLogger({ name: 'state', destination: io.stderr });
    const stores = await StateStores.open(components, {
      appId,
      dataDir: resolve(io.cwd, opts['data-dir']),
      env: io.env,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    });
    const server = createStateApiServer({
      stores,
      appId,
      componentTypes: Object.fromEntries(components.map((c) => [c.metadata.name, c.spec.type])),
      maxBodyBytes: Math.floor(mib * 1024 * 1024),
      ...(io.env.DAPR_API_TOKEN ? { apiToken: io.env.DAPR_API_TOKEN } : {}),
      logger: log,
    });
    let address;
    try {
      address = await server.listen(port, opts['listen-address']);
    } catch (err) {
      await stores.close();
      if (isStateError(err, 'SPROUT_ERR_STATE_PORT_IN_USE'))
        throw new StateError(
          'SPROUT_ERR_STATE_PORT_IN_USE',
          `${err.message}; pick another port with --dapr-http-port (or DAPR_HTTP_PORT; 0 picks a free one), or stop what listens there`,
          { field: '--dapr-http-port', cause: err },
        );
      throw new UsageError(
        `cannot listen on ${opts['listen-address']}:${port}: ${(err as Error).message}`,
        1,
      );
    }
    log.info(
      {
        url: address.url,
        port: address.port,
        stores: components.map((c) => `${c.metadata.name} (${c.spec.type})`),
      },
      'Dapr state API listening',
    );
    const signal = await untilSignal();
    log.info({ signal }, 'shutting down');
    await server.close();
    await stores.close();
    return 0;
  },
});

export default defineCommand({
  name: 'state',
  summary: 'Dapr state management: serve the state HTTP API over component YAML',
  usage: 'sprout state <command> [options]',
  options: {},
  subcommands: [serve as unknown as Command],
});
