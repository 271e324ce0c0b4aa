import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendError, sendJson } from '@sprout/http';
import {
  ARCHES,
  CONTAINER_MANAGERS,
  ETCD_TYPES,
  NETWORK_PLUGINS,
  SECRET_REF_PREFIX,
  WIZARD_STEPS,
  defaultCluster,
  type ClusterConfig,
} from './config.js';
import { ClusterError } from './errors.js';
import { RUN_ACTIONS, kkCommandLine, type RunAction } from './kk-command.js';
import { runPreflight } from './preflight.js';
import { RunManager, type RunManagerOptions } from './runs.js';
import { ClusterStore } from './store.js';
import { KUBERNETES_VERSIONS } from './versions.js';
import { parseConfigFile, renderConfigFile } from './yaml.js';

export interface ClusterApiOptions extends RunManagerOptions {
  /** The console's data dir; clusters live under `<dataDir>/kubekey`. */
  dataDir: string;
}

/**
 * The KubeKey installer's HTTP API under `/v1/clusters`, one of the console's routes (`ConsoleRoutes`):
 * the console checks Host, origin, the session or token and CSRF before calling `handle`.
 */
export interface ClusterApi {
  readonly prefix: string;
  /** Answers a request under the prefix (a coded 404 for a path that is none of its routes). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  readonly store: ClusterStore;
  readonly runs: RunManager;
  /** Cancels running kk processes and waits for them. */
  close(): Promise<void>;
}

export const CLUSTER_API_PREFIX = '/v1/clusters';
const MAX_BODY = 2 << 20;

/**
 * Routes (JSON; the console's server checks the session and CSRF before calling `handle`):
 *
 * | method, path                                   | does                                              |
 * | ---------------------------------------------- | ------------------------------------------------- |
 * | GET /v1/clusters                              | saved configs: name, nodes, version, CNI, runtime |
 * | GET /v1/clusters/-/options                    | the wizard's steps, versions, plugins, defaults   |
 * | POST /v1/clusters/-/validate `{config}`       | issues (errors, warnings) and the YAML            |
 * | POST /v1/clusters `{config}`                  | saves a new config (400 with issues on errors)    |
 * | POST /v1/clusters/-/import `{yaml}`           | saves a kk config file as it is                   |
 * | GET, PUT, DELETE /v1/clusters/{name}          | one config (secrets as references)                |
 * | GET /v1/clusters/{name}/yaml                  | the file to download (secrets as references)      |
 * | POST /v1/clusters/{name}/preflight `{nodes?}` | the SSH pre-flight table                          |
 * | GET, POST /v1/clusters/{name}/runs            | runs; start one `{action, node?, version?}`       |
 * | GET /v1/clusters/{name}/runs/{id}             | a run's record                                    |
 * | GET /v1/clusters/{name}/runs/{id}/log         | its lines, as server-sent events (follows)        |
 * | POST /v1/clusters/{name}/runs/{id}/cancel     | stops it                                          |
 */
export function createClusterApi(o: ClusterApiOptions): ClusterApi {
  const store = new ClusterStore(o.dataDir);
  const runs = new RunManager(store, o);

  const route = async (req: IncomingMessage, res: ServerResponse, parts: string[]): Promise<boolean> => {
    const m = req.method ?? 'GET';
    const [name, sub, id, action] = parts;
    if (name === undefined) {
      if (m === 'GET')
        return ok(res, {
          clusters: store.list().map((s) => ({ ...s, running: runs.running(s.name) ?? null })),
        });
      if (m === 'POST') return ok(res, store.save(configOf(await body(req)), { create: true }), 201);
      return false;
    }
    if (name === '-') {
      if (sub === 'options' && m === 'GET') return ok(res, options());
      if (sub === 'validate' && m === 'POST') {
        const config = configOf(await body(req));
        return ok(res, { issues: store.validate(config), yaml: safeYaml(config) });
      }
      if (sub === 'import' && m === 'POST') {
        const b = await body(req);
        if (typeof b.yaml !== 'string') throw invalidRequest('send {"yaml": "<the kk config file>"}', 'yaml');
        return ok(res, store.import(b.yaml), 201);
      }
      return false;
    }
    if (sub === undefined) {
      if (m === 'GET') return ok(res, { ...store.get(name), running: runs.running(name) ?? null });
      if (m === 'PUT') {
        const config = configOf(await body(req));
        if (config.metadata.name !== name)
          throw invalidRequest(`metadata.name must stay ${name}`, '/metadata/name');
        return ok(res, store.save(config, { create: false }));
      }
      if (m === 'DELETE') {
        if (runs.running(name))
          throw new ClusterError(
            'SPROUT_ERR_CONSOLE_CLUSTER_RUN_BUSY',
            `${name} has a run in progress: cancel it first`,
          );
        store.remove(name);
        res.writeHead(204).end();
        return true;
      }
      return false;
    }
    if (sub === 'yaml' && m === 'GET' && id === undefined) {
      const text = store.get(name).yaml;
      res.writeHead(200, {
        'content-type': 'application/yaml; charset=utf-8',
        'content-disposition': `attachment; filename="${name}.yaml"`,
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      return true;
    }
    if (sub === 'preflight' && m === 'POST' && id === undefined) {
      const b = await body(req);
      store.assertRunnable(name);
      const nodes = Array.isArray(b.nodes)
        ? b.nodes.filter((n): n is string => typeof n === 'string')
        : undefined;
      const plain = parseConfigFile(store.plainConfig(name)).cluster;
      return ok(res, await runPreflight(plain, { nodes }));
    }
    if (sub !== 'runs') return false;
    if (id === undefined) {
      if (m === 'GET') return ok(res, { runs: runs.list(name), running: runs.running(name) ?? null });
      if (m === 'POST') {
        const b = await body(req);
        const act = b.action as RunAction;
        if (!RUN_ACTIONS.includes(act))
          throw invalidRequest(`action must be one of ${RUN_ACTIONS.join(', ')}`, 'action');
        const record = runs.start(name, act, {
          node: b.node as string | undefined,
          version: b.version as string | undefined,
        });
        return ok(res, record, 202);
      }
      return false;
    }
    if (action === undefined && m === 'GET') return ok(res, runs.get(name, id));
    if (action === 'cancel' && m === 'POST') return ok(res, runs.cancel(name, id));
    if (action === 'log' && m === 'GET') return streamLog(req, res, runs, name, id);
    return false;
  };

  return {
    store,
    runs,
    prefix: CLUSTER_API_PREFIX,
    async handle(req, res, url) {
      try {
        const parts = url.pathname
          .slice(CLUSTER_API_PREFIX.length)
          .split('/')
          .filter((p) => p !== '')
          .map((p) => decodeURIComponent(p));
        if (!(await route(req, res, parts))) {
          req.resume();
          throw new ClusterError(
            'SPROUT_ERR_CONSOLE_CLUSTER_ROUTE_NOT_FOUND',
            `no route ${req.method ?? 'GET'} ${url.pathname}: see the console README for the cluster API`,
          );
        }
      } catch (err) {
        req.resume();
        sendError(
          res,
          err instanceof URIError ? invalidRequest('the path is not valid percent-encoding') : err,
          { code: 'SPROUT_ERR_CONSOLE_CLUSTER_INTERNAL' },
        );
      }
    },
    close: () => runs.close(),
  };
}

function ok(res: ServerResponse, value: unknown, status = 200): true {
  sendJson(res, status, value);
  return true;
}

function invalidRequest(message: string, field?: string): ClusterError {
  return new ClusterError('SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID', message, { field });
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const buf = await readBody(req, {
    limit: MAX_BODY,
    tooLarge: (n) =>
      new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_BODY_TOO_LARGE',
        `the body is over ${n} bytes: a cluster config is far smaller`,
      ),
  });
  if (buf.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw invalidRequest('the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidRequest('the body must be a JSON object');
  return v as Record<string, unknown>;
}

/** The `config` of a request body, checked to have the shape the validator walks. */
function configOf(b: Record<string, unknown>): ClusterConfig {
  const c = b.config as ClusterConfig | undefined;
  const obj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!obj(c) || !obj(c!.metadata) || !obj(c!.spec)) {
    throw invalidRequest('send {"config": {apiVersion, kind, metadata: {name}, spec: {...}}}', 'config');
  }
  const spec = c!.spec;
  if (!Array.isArray(spec.hosts) || spec.hosts.some((h) => !obj(h)))
    throw invalidRequest('spec.hosts must be a list of hosts', '/spec/hosts');
  if (!obj(spec.roleGroups) || Object.values(spec.roleGroups).some((v) => !Array.isArray(v))) {
    throw invalidRequest('spec.roleGroups must map each role to a list of host names', '/spec/roleGroups');
  }
  return c!;
}

function safeYaml(config: ClusterConfig): string {
  // What the confirm step previews: secrets typed in this session are shown as "(set)".
  const copy = structuredClone(config);
  for (const h of copy.spec.hosts) {
    for (const f of ['password', 'privateKey'] as const)
      if (h[f] && !String(h[f]).startsWith(SECRET_REF_PREFIX)) h[f] = '(set)';
  }
  for (const a of Object.values(copy.spec.registry?.auths ?? {})) {
    if (a && typeof a === 'object' && a.password && !a.password.startsWith(SECRET_REF_PREFIX))
      a.password = '(set)';
  }
  return renderConfigFile({ cluster: copy, others: [] });
}

function options() {
  return {
    steps: WIZARD_STEPS,
    kubernetesVersions: KUBERNETES_VERSIONS,
    containerManagers: CONTAINER_MANAGERS,
    networkPlugins: NETWORK_PLUGINS,
    etcdTypes: ETCD_TYPES,
    arches: ARCHES,
    runActions: RUN_ACTIONS,
    defaults: defaultCluster('my-cluster'),
    commands: Object.fromEntries(
      RUN_ACTIONS.map((a) => [a, kkCommandLine(a, '<name>.yaml', { node: '<node>', version: '<version>' })]),
    ),
  };
}

function streamLog(
  req: IncomingMessage,
  res: ServerResponse,
  runs: RunManager,
  name: string,
  id: string,
): true {
  runs.get(name, id); // 404 before the stream starts
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  // kk can be quiet for minutes (pulling images): a comment line keeps proxies from closing the stream.
  const beat = setInterval(() => res.write(': still running\n\n'), 15_000);
  const unfollow = runs.follow(
    name,
    id,
    (l) => res.write(`event: line\ndata: ${JSON.stringify(l)}\n\n`),
    (r) => {
      clearInterval(beat);
      res.end(`event: end\ndata: ${JSON.stringify(r)}\n\n`);
    },
  );
  const stop = () => {
    clearInterval(beat);
    unfollow();
  };
  req.once('close', stop);
  res.once('close', stop);
  return true;
}
