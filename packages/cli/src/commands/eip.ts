import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import {
  EipError,
  applyWorkload,
  createEipManager,
  createAnnouncers,
  parseWorkloadYaml,
  renderEipManifests,
  startAnnouncing,
  type AllocationRequest,
  type EipManager,
  type ServicePort,
  type ServiceState,
} from '@sprout/eip';
import { answerClientErrors, applyServerLimits, refuseHostless } from '@sprout/http';
import { createLogger } from '@sprout/observe';
import { METRICS_CONTENT_TYPE } from '@sprout/observe/metrics';
import { stringify } from 'yaml';
import { defineCommand, UsageError, type Command, type CommandIO } from '../command.js';
import { checkOutput, outputOption, table } from '../output.js';

const dataDirOption = {
  'data-dir': {
    type: 'string',
    env: 'SPROUT_DATA_DIR',
    default: '.sprout',
    value: 'DIR',
    description: 'Folder of the embedded store',
  },
} as const;

function open(dataDir: string, io: CommandIO): EipManager {
  return createEipManager({
    dataDir: resolve(io.cwd, dataDir),
    logger: createLogger({ name: 'eip', level: 'warn', destination: io.stderr }),
  });
}

function withManager<T>(dataDir: string, io: CommandIO, fn: (m: EipManager) => T): T {
  const m = open(dataDir, io);
  try {
    return fn(m);
  } finally {
    m.close();
  }
}

function target(positionals: string[], cmd: string): { namespace: string; name: string } {
  const [t, ...rest] = positionals;
  const m = /^([^/]+)\/([^/]+)$/.exec(t ?? '');
  if (!m || rest.length)
    throw new UsageError(`expected one NAMESPACE/NAME, e.g. 'sprout eip ${cmd} default/web'`);
  return { namespace: m[1]!, name: m[2]! };
}

export function parsePorts(text: string): ServicePort[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(p.trim());
      const port = Number(m?.[1]);
      if (!m || port < 1 || port > 65535)
        throw new UsageError(`--ports: '${p}' is not PORT[/tcp|udp|sctp] (1-65535)`);
      return { port, protocol: (m[2] ?? 'tcp').toUpperCase() as ServicePort['protocol'] };
    });
}

const apply = defineCommand({
  name: 'eip apply',
  summary: 'Apply Eip, BgpConf, BgpPeer and Namespace documents and allocate for OpenELB Services',
  usage: 'sprout eip apply -f FILE [-f FILE...]',
  details:
    'A LoadBalancer Service with lb.kubesphere.io/v1alpha1: openelb gets an address as OpenELB gives it\n(eip.openelb.kubesphere.io/v1alpha2 names the Eip, eip.openelb.kubesphere.io/v1alpha1 or\nspec.loadBalancerIP the address); each is printed with its address and why. Other documents\n(Deployments, other Services) are listed as skipped.',
  options: {
    filename: {
      type: 'string',
      short: 'f',
      multiple: true,
      value: 'FILE',
      description: 'YAML file (multi-document); - for standard input',
    },
    ...dataDirOption,
  },
  run(opts, _pos, io) {
    if (!opts.filename.length)
      throw new UsageError("give at least one file with -f, e.g. 'sprout eip apply -f pools.yaml'");
    return withManager(opts['data-dir'], io, (m) => {
      for (const f of opts.filename) {
        const text = readFileSync(f === '-' ? 0 : resolve(io.cwd, f), 'utf8');
        const w = applyWorkload(m, parseWorkloadYaml(text, f === '-' ? 'stdin' : f));
        const r = w.applied;
        for (const p of r.pools) io.stdout.write(`eip/${p.name} ${p.action}\n`);
        for (const n of r.namespaces) io.stdout.write(`namespace/${n} configured\n`);
        for (const b of r.bgp) io.stdout.write(`${b.toLowerCase()} configured\n`);
        for (const s of r.allocated) io.stdout.write(`service/${s} allocated (was pending)\n`);
        for (const { service: s, why } of w.services) {
          const got = s.status === 'allocated' ? s.addresses.map((a) => a.ip).join(', ') : 'pending';
          io.stdout.write(`service/${s.key} ${got}: ${why}\n`);
        }
        for (const d of w.skipped) io.stdout.write(`skipped ${d.name}: ${d.reason}\n`);
        for (const warning of r.warnings) io.stderr.write(`warning: ${warning}\n`);
      }
      return 0;
    });
  },
});

function printService(s: ServiceState, io: CommandIO, output: 'table' | 'json'): number {
  if (output === 'json') io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  if (s.status === 'pending') {
    throw new EipError(
      'SPROUT_ERR_EIP_PENDING',
      `${s.key} is pending: ${s.condition!.reason}: ${s.condition!.message}`,
    );
  }
  if (output === 'table') for (const a of s.addresses) io.stdout.write(`${a.ip}\n`);
  return 0;
}

const allocate = defineCommand({
  name: 'eip allocate',
  summary: 'Give a service its address(es); prints them or fails with the pending reason',
  usage:
    'sprout eip allocate NAMESPACE/NAME [--pool P] [--ip IP] [--sharing-key K --ports 53/udp,53/tcp] [--ip-family-policy POLICY]',
  options: {
    pool: { type: 'string', value: 'EIP', description: 'Allocate from this Eip' },
    ip: { type: 'string', multiple: true, value: 'IP', description: 'This address (one per family)' },
    'sharing-key': {
      type: 'string',
      value: 'KEY',
      description: 'Share an address with services of the same key',
    },
    ports: {
      type: 'string',
      value: 'LIST',
      description: 'Ports the service uses, e.g. 53/udp,53/tcp (default protocol tcp)',
    },
    'ip-family-policy': {
      type: 'string',
      default: 'SingleStack',
      value: 'POLICY',
      description: 'SingleStack, PreferDualStack or RequireDualStack',
    },
    'ip-families': { type: 'string', value: 'LIST', description: 'Family order, e.g. IPv6,IPv4' },
    ...outputOption,
    ...dataDirOption,
  },
  run(opts, pos, io) {
    const output = checkOutput(opts.output);
    const policy = opts['ip-family-policy'];
    if (!['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(policy)) {
      throw new UsageError(
        `--ip-family-policy must be SingleStack, PreferDualStack or RequireDualStack, got '${policy}'`,
      );
    }
    const req: AllocationRequest = {
      ...target(pos, 'allocate'),
      ipFamilyPolicy: policy as AllocationRequest['ipFamilyPolicy'],
      ...(opts.pool ? { pool: opts.pool } : {}),
      ...(opts.ip.length ? { ips: opts.ip } : {}),
      ...(opts['sharing-key'] ? { sharingKey: opts['sharing-key'] } : {}),
      ...(opts.ports ? { ports: parsePorts(opts.ports) } : {}),
      ...(opts['ip-families']
        ? { ipFamilies: opts['ip-families'].split(',') as AllocationRequest['ipFamilies'] }
        : {}),
    };
    return withManager(opts['data-dir'], io, (m) => printService(m.allocate(req), io, output));
  },
});

const release = defineCommand({
  name: 'eip release',
  summary: "Release a service's address(es)",
  usage: 'sprout eip release NAMESPACE/NAME',
  options: { ...dataDirOption },
  run(opts, pos, io) {
    const t = target(pos, 'release');
    return withManager(opts['data-dir'], io, (m) => {
      const old = m.release(t.namespace, t.name);
      io.stdout.write(
        `released ${old.key}${old.addresses.length ? ` (${old.addresses.map((a) => a.ip).join(', ')})` : ''}\n`,
      );
      return 0;
    });
  },
});

const del = defineCommand({
  name: 'eip delete',
  summary: 'Delete an Eip (refused while in use unless --drain)',
  usage: 'sprout eip delete EIP [--drain]',
  options: {
    drain: { type: 'boolean', description: "Move the pool's services to other pools (or pending) first" },
    ...dataDirOption,
  },
  run(opts, pos, io) {
    if (pos.length !== 1) throw new UsageError("expected one Eip name, e.g. 'sprout eip delete pool-a'");
    return withManager(opts['data-dir'], io, (m) => {
      const r = m.deletePool(pos[0]!, { drain: opts.drain });
      io.stdout.write(`eip/${pos[0]} deleted${r.drained.length ? `; moved ${r.drained.join(', ')}` : ''}\n`);
      return 0;
    });
  },
});

const ls = defineCommand({
  name: 'eip ls',
  summary: 'List pools with their usage',
  usage: 'sprout eip ls [-o json]',
  options: { ...outputOption, ...dataDirOption },
  run(opts, _pos, io) {
    const output = checkOutput(opts.output);
    return withManager(opts['data-dir'], io, (m) => {
      const usage = m.usage();
      if (output === 'json') {
        const pools = m.pools();
        io.stdout.write(
          JSON.stringify(
            usage.map((u) => ({ ...u, spec: pools.find((p) => p.name === u.name)?.document.spec })),
            null,
            2,
          ) + '\n',
        );
        return 0;
      }
      const rows = [
        ['NAME', 'ADDRESS', 'PROTOCOL', 'PRIORITY', 'DEFAULT', 'DISABLED', 'SIZE', 'USED', 'FREE'],
      ];
      for (const u of usage)
        rows.push([
          u.name,
          u.address,
          u.protocol,
          String(u.priority),
          u.isDefault ? 'yes' : '',
          u.disabled ? 'yes' : '',
          String(u.size),
          String(u.used),
          String(u.free),
        ]);
      io.stdout.write(usage.length ? table(rows) : 'no pools; apply some with sprout eip apply -f FILE\n');
      return 0;
    });
  },
});

const status = defineCommand({
  name: 'eip status',
  summary: 'Show pools, services (allocated and pending, with reasons) and recent events',
  usage: 'sprout eip status [-o json]',
  options: { ...outputOption, ...dataDirOption },
  run(opts, _pos, io) {
    const output = checkOutput(opts.output);
    return withManager(opts['data-dir'], io, (m) => {
      const data = { pools: m.usage(), services: m.services(), bgp: m.bgp(), events: m.events(10) };
      if (output === 'json') {
        io.stdout.write(
          JSON.stringify(
            { ...data, bgp: { conf: data.bgp.conf?.document, peers: data.bgp.peers.map((p) => p.document) } },
            null,
            2,
          ) + '\n',
        );
        return 0;
      }
      const pools = [['POOL', 'SIZE', 'USED', 'FREE']];
      for (const u of data.pools) pools.push([u.name, String(u.size), String(u.used), String(u.free)]);
      const svcs = [['SERVICE', 'STATUS', 'ADDRESSES', 'REASON']];
      for (const s of data.services)
        svcs.push([
          s.key,
          s.status,
          s.addresses.map((a) => `${a.ip} (${a.pool})`).join(', '),
          s.condition ? `${s.condition.reason}: ${s.condition.message}` : '',
        ]);
      io.stdout.write(table(pools) + '\n' + table(svcs));
      if (data.events.length)
        io.stdout.write(
          '\nEvents:\n' + data.events.map((e) => `  ${e.at}  ${e.type}  ${e.message}`).join('\n') + '\n',
        );
      return 0;
    });
  },
});

const render = defineCommand({
  name: 'eip render',
  summary: 'Print the Eip, BgpConf and BgpPeer manifests (and Service annotations) for Kubernetes',
  usage: 'sprout eip render [NAMESPACE/NAME...]',
  options: { ...dataDirOption },
  run(opts, pos, io) {
    return withManager(opts['data-dir'], io, (m) => {
      const services = pos.map((p) => {
        const t = target([p], 'render');
        const s = m.get(t.namespace, t.name);
        if (!s) throw new EipError('SPROUT_ERR_EIP_NOT_ALLOCATED', `${p} is not known; allocate it first`);
        return s;
      });
      const docs = renderEipManifests({ pools: m.pools(), ...m.bgp(), services });
      io.stdout.write(docs.map((d) => stringify(d)).join('---\n'));
      return 0;
    });
  },
});

const serve = defineCommand({
  name: 'eip serve',
  summary: 'Run the announcers (local bind, BGP, layer 2) until interrupted',
  usage: 'sprout eip serve [--metrics-port PORT]',
  options: {
    'metrics-port': { type: 'string', value: 'PORT', description: 'Serve /metrics on 127.0.0.1:PORT' },
    ...dataDirOption,
  },
  async run(opts, _pos, io) {
    const log = createLogger({ name: 'eip', destination: io.stderr });
    const m = createEipManager({ dataDir: resolve(io.cwd, opts['data-dir']), logger: log });
    const announcing = startAnnouncing(m, { announcers: createAnnouncers(m, { logger: log }), logger: log });
    let server: ReturnType<typeof createServer> | undefined;
    if (opts['metrics-port']) {
      server = createServer((req, res) => {
        if (refuseHostless(req, res)) return;
        if (req.url !== '/metrics') return res.writeHead(404).end();
        m.metrics.metrics().then(
          (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
          () => res.writeHead(500).end(),
        );
      });
      // The limits of every Sprout listener: slow clients are closed, the connections capped.
      applyServerLimits(server, { maxConnections: 256 });
      answerClientErrors(server);
      server.listen(Number(opts['metrics-port']), '127.0.0.1');
    }
    log.info({ dataDir: opts['data-dir'] }, 'eip announcers running; Ctrl-C to stop');
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    server?.close();
    await announcing.close();
    m.close();
    return 0;
  },
});

export default defineCommand({
  name: 'eip',
  summary: 'Load-balancer address pools, allocations and announcement',
  usage: 'sprout eip <command> [options]',
  details:
    'Works without a running daemon, on the embedded store under --data-dir.\nExample: sprout eip apply -f examples/eip-local/pools.yaml && sprout eip allocate default/web',
  options: {},
  subcommands: [apply, ls, status, allocate, release, del, render, serve] as unknown as Command[],
});
