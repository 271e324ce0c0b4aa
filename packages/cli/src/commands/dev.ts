import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startDev } from '@sprout/platform';
import { createLogger } from '@sprout/observe';
import { defineCommand, UsageError } from '../command.js';
import { announceConsole } from '../console-site.js';
import { untilSignal } from '@sprout/http';

const port = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--${name} must be a port 0-65535, got '${value}'`);
  return n;
};

const count = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 16) throw new UsageError(`--${name} must be 0-16, got '${value}'`);
  return n;
};

export default defineCommand({
  name: 'dev',
  summary: 'Run the platform on one machine: gateway, supervised function instances and API',
  usage: 'sprout dev [dir...] [options]',
  details: `
Each folder (or function.yaml) is a function: its function.yaml (OpenFunction Function v1beta2)
when there is one, else a plain HTTP function named after the folder; a folder of function folders
serves them all. Every function runs as supervised child processes started on the first request
(scale from zero) and stopped when idle. The gateway routes by triggers.http.route, else by the
path prefix /<function name> (and / too when only one function is served). The REST API (see
packages/platform/openapi.yaml) lists functions and instances, scales, invokes, streams events and
serves the gateway's /metrics. What was registered is kept in --data-dir: 'sprout dev' with no
folder serves it again (and says so), else the folder it runs in; folders given replace it.

With nothing to serve (a mistyped or empty folder, every function.yaml broken) it exits 1 with
SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE and each reason. With some functions broken it serves the rest,
logs an error line for each broken one (file:line and code) and 'serving N of M functions; broken:
...'; under watch a broken function.yaml is registered as soon as it is fixed.

--data-dir keeps, between runs: platform.db (the registry), eip.db (pools, namespaces, BGP settings
and addresses, shared with 'sprout eip'), logs/ (the default collector's files), state/ (functions'
embedded state) and cache/ (resolved function.yaml files of sprout run). Pools applied earlier are used
and named at start; with --eip FILE only that file's pools are (the others are removed). --fresh
moves all of these to <data-dir>/previous/ first (replacing what an earlier --fresh put there) and
says what it moved; nothing outside the data dir is touched.

Every function's stdout/stderr lines and the gateway's metrics go through a collector pipeline:
JSON lines under <data-dir>/logs/ by default, or a fluent-bit YAML config (--collector). When EIP
pools exist (--eip, or 'sprout eip apply' on the same --data-dir), each function gets an address
from its namespace's pool and is served on every path of that address; the API's /v1/eip/ shows
pools, usage and allocations. Instances reload a function when its files change (--no-watch to turn
off). SIGTERM/SIGINT drain every instance and exit 0.

An async function (serving.triggers.dapr in function.yaml, its pub/subs and bindings under
serving.pubsub / serving.bindings or in --resources-path) is subscribed at start: each message is
delivered to an instance (a message arriving at zero instances starts one and waits for it), acked
only when the function returns, retried and dead-lettered as Dapr does; its replicas follow the
lag of its scaleOptions.keda triggers. The Dapr publish/bindings API (port printed at start,
--dapr-http-port) is the instances' DAPR_HTTP_PORT (ctx.send, the Dapr SDK).

The web console is served on the API's listener (http://127.0.0.1:9090/ by default; its URL and a
one-time sign-in link are printed at start). The first start creates its admin account with a
generated password printed once (or SPROUT_ADMIN_PASSWORD; setting it later resets the password),
kept scrypt-hashed in <data-dir>/console-accounts.json (0600).

The API asks for credentials on every call but GET /v1/health and /metrics: the token generated at
the first start in <data-dir>/api-token (readable by this user only, printed once at each start,
read by 'sprout logs' from the same data dir), an API token made in the console, or the console's
session cookie (writes must carry its CSRF token). It answers no browser page of another origin (no
CORS) and no Host but localhost or an IP address; see SECURITY.md.

Examples:
  sprout dev examples/hello          then: curl localhost:8080/
  sprout dev fn-a fn-b --port 3000   then: curl localhost:3000/fn-a
  sprout dev examples/eip-local --eip examples/eip-local/pools.yaml
  sprout dev examples/hello --collector examples/collector-dev/collector.yaml
  sprout dev --fresh examples/hello  start clean: no functions, pools or logs from earlier runs
  curl -H "Authorization: Bearer $(cat .sprout/api-token)" 127.0.0.1:9090/v1/functions
`,
  options: {
    port: {
      type: 'string',
      env: 'PORT',
      default: '8080',
      value: 'PORT',
      description: 'Port of the gateway (0 picks a free one)',
    },
    host: {
      type: 'string',
      env: 'HOST',
      value: 'ADDR',
      description:
        'Address of the gateway (default 127.0.0.1: this machine only; 0.0.0.0 or :: exposes it, as EIP addresses need)',
    },
    'api-port': {
      type: 'string',
      env: 'SPROUT_API_PORT',
      default: '9090',
      value: 'PORT',
      description: 'Port of the REST API and /metrics on 127.0.0.1 (0 picks a free one)',
    },
    'dapr-http-port': {
      type: 'string',
      env: 'SPROUT_DAPR_HTTP_PORT',
      default: '0',
      value: 'PORT',
      description:
        'Port of the Dapr publish/bindings API on 127.0.0.1 (0 picks a free one): instances get it as DAPR_HTTP_PORT, so ctx.send and the Dapr SDK reach it; it asks for the API token in dapr-api-token',
    },
    'resources-path': {
      type: 'string',
      value: 'DIR',
      description:
        'Folder of Dapr Component, Subscription and Resiliency YAML (as dapr run --resources-path) for async functions: their pub/subs, bindings, declarative subscriptions and resiliency policies',
    },
    'data-dir': {
      type: 'string',
      env: 'SPROUT_DATA_DIR',
      default: '.sprout',
      value: 'DIR',
      description:
        'Folder of what is kept between runs: registry (platform.db), EIP store (eip.db), logs/, state/, cache/',
    },
    fresh: {
      type: 'boolean',
      description:
        'Start clean: move what earlier runs kept in --data-dir to <data-dir>/previous/ (replacing the last one) and say what moved',
    },
    standby: {
      type: 'string',
      env: 'SPROUT_STANDBY',
      default: '1',
      value: 'N',
      description: 'Processes kept pre-started (Node and the framework loaded) for cold starts; 0 for none',
    },
    collector: {
      type: 'string',
      env: 'SPROUT_COLLECTOR_CONFIG',
      value: 'FILE',
      description:
        "fluent-bit YAML whose filters and outputs get every function's log lines (tag fn.<namespace>.<name>) and the gateway's metrics (tag sprout.gateway.metrics); its inputs run too. Default: JSON lines under <data-dir>/logs/",
    },
    'no-collector': {
      type: 'boolean',
      description: 'Do not collect function logs and gateway metrics',
    },
    eip: {
      type: 'string',
      value: 'FILE',
      description:
        "Eip, BgpConf, BgpPeer and Namespace YAML applied at start (as sprout eip apply -f); each exposed function gets an address from its namespace pool. Only this file's pools are used: pools applied earlier that it leaves out or changes are removed. Without --eip, pools applied earlier are used (and named at start)",
    },
    'no-eip': {
      type: 'boolean',
      description: 'Give functions no load-balancer addresses and do not announce any',
    },
    'no-watch': {
      type: 'boolean',
      description:
        'Do not reload functions when their files change (by default a change reloads in place and a function that fails to load answers 503 with the error)',
    },
  },
  async run(opts, positionals, io) {
    const logger = createLogger({ name: 'sprout' });
    if (opts['no-collector'] && opts.collector)
      throw new UsageError('--collector and --no-collector cannot both be given');
    if (opts['no-eip'] && opts.eip) throw new UsageError('--eip and --no-eip cannot both be given');
    let eipYaml: string | undefined;
    if (opts.eip) {
      try {
        eipYaml = await readFile(resolve(io.cwd, opts.eip), 'utf8');
      } catch (err) {
        throw new UsageError(`--eip ${opts.eip}: ${(err as Error).message}`);
      }
    }
    const dataDir = resolve(io.cwd, opts['data-dir']);
    // Loaded here, not at the top: `sprout dev --help` need not load the console (and its SSH client).
    const { createConsole } = await import('@sprout/console');
    const site = await createConsole({
      dataDir,
      logger,
      ...(io.env.SPROUT_ADMIN_PASSWORD ? { adminPassword: io.env.SPROUT_ADMIN_PASSWORD } : {}),
    });
    const dev = await startDev({
      site,
      paths: positionals,
      cwd: io.cwd,
      dataDir,
      ...(opts.fresh ? { fresh: true } : {}),
      port: port('port', opts.port),
      ...(opts.host ? { host: opts.host } : {}),
      apiPort: port('api-port', opts['api-port']),
      daprHttpPort: port('dapr-http-port', opts['dapr-http-port']),
      ...(opts['resources-path'] ? { resourcesPath: resolve(io.cwd, opts['resources-path']) } : {}),
      watch: !opts['no-watch'],
      standby: count('standby', opts.standby),
      env: io.env,
      collector: opts['no-collector']
        ? false
        : opts.collector
          ? { configFile: resolve(io.cwd, opts.collector) }
          : {},
      eip: opts['no-eip'] ? false : eipYaml !== undefined ? { apply: eipYaml } : {},
    });
    announceConsole(logger, site, `${dev.api.url}/`);
    const signal = await untilSignal();
    logger.info({ signal }, 'shutting down: draining instances');
    await dev.close();
    await site.close();
    logger.info('stopped');
    return 0;
  },
});
