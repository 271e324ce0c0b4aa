import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { EipError } from './errors.js';
import { blocksOverlap, canonicalIp, parseAddressBlock, parseIp, type AddressBlock } from './ip.js';

export const EIP_API_VERSION = 'network.kubesphere.io/v1alpha2';
/** OpenELB's annotation marking the one default Eip. */
export const DEFAULT_EIP_ANNOTATION = 'eip.openelb.kubesphere.io/is-default-eip';
/** Sprout's annotation allowing network/broadcast (IPv4) and anycast (IPv6) addresses of a CIDR pool. */
export const ALLOW_RESERVED_ANNOTATION = 'eip.sprout.dev/allow-network-broadcast';

const name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain name (a-z, 0-9, - and .)');
const labels = z.record(z.string(), z.string());
const metadata = z.looseObject({
  name,
  labels: labels.optional(),
  annotations: labels.optional(),
});

const eipSchema = z.object({
  apiVersion: z.literal(EIP_API_VERSION),
  kind: z.literal('Eip'),
  metadata,
  spec: z.strictObject({
    address: z.string(),
    protocol: z.enum(['bgp', 'layer2', 'vip', 'local']).default('bgp'),
    interface: z.string().min(1).optional(),
    disable: z.boolean().default(false),
    priority: z.number().int().min(0).default(0),
    namespaces: z.array(name).default([]),
    namespaceSelector: labels.optional(),
    usingKnownIPs: z.boolean().optional(),
  }),
  status: z.unknown().optional(),
});

const asNumber = z.number().int().min(1).max(4294967295);
const notSupported = (what: string) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined, `${what} is not supported by Sprout's BGP speaker; remove it`);

const bgpConfSchema = z.object({
  apiVersion: z.literal(EIP_API_VERSION),
  kind: z.literal('BgpConf'),
  metadata,
  spec: z.strictObject({
    as: asNumber,
    routerId: z.string().optional(),
    listenPort: z.number().int().min(-1).max(65535).optional(),
    listenAddresses: z.array(z.string()).optional(),
    asPerRack: notSupported('asPerRack'),
    families: notSupported('families'),
    gracefulRestart: notSupported('gracefulRestart'),
    policy: notSupported('policy'),
    useMultiplePaths: notSupported('useMultiplePaths'),
  }),
  status: z.unknown().optional(),
});

const seconds = z
  .union([z.string(), z.number()])
  .transform((v) => Number(v))
  .refine((v) => Number.isFinite(v) && v >= 0 && v <= 65535, 'must be a number of seconds (0-65535)');
const family = z.strictObject({
  config: z.strictObject({
    enabled: z.boolean().default(true),
    family: z.strictObject({ afi: z.enum(['AFI_IP', 'AFI_IP6']), safi: z.literal('SAFI_UNICAST') }),
  }),
  addPaths: notSupported('addPaths'),
  mpGracefulRestart: notSupported('mpGracefulRestart'),
});

const bgpPeerSchema = z.object({
  apiVersion: z.literal(EIP_API_VERSION),
  kind: z.literal('BgpPeer'),
  metadata,
  spec: z.strictObject({
    conf: z.strictObject({
      peerAs: asNumber,
      neighborAddress: z.string(),
      localAs: asNumber.optional(),
      adminDown: z.boolean().default(false),
      description: z.string().optional(),
      authPassword: notSupported('authPassword (TCP MD5 signatures)'),
      neighborInterface: notSupported('neighborInterface'),
      peerGroup: z.string().optional(),
      peerType: z.number().int().optional(),
      allowOwnAs: notSupported('allowOwnAs'),
      removePrivateAs: notSupported('removePrivateAs'),
      replacePeerAs: notSupported('replacePeerAs'),
      routeFlapDamping: notSupported('routeFlapDamping'),
      sendCommunity: notSupported('sendCommunity'),
      vrf: notSupported('vrf'),
    }),
    afiSafis: z.array(family).optional(),
    ebgpMultihop: z
      .strictObject({ enabled: z.boolean().optional(), multihopTtl: z.number().int().optional() })
      .optional(),
    gracefulRestart: notSupported('gracefulRestart'),
    nodeSelector: z.unknown().optional(),
    timers: z
      .strictObject({
        config: z.strictObject({
          connectRetry: seconds.optional(),
          holdTime: seconds.optional(),
          keepaliveInterval: seconds.optional(),
          minimumAdvertisementInterval: seconds.optional(),
        }),
      })
      .optional(),
    transport: z
      .strictObject({
        remotePort: z.number().int().min(1).max(65535).optional(),
        remoteAddress: z.string().optional(),
        passiveMode: z.literal(false).optional(),
        mtuDiscovery: z.boolean().optional(),
        tcpMss: notSupported('tcpMss'),
      })
      .optional(),
  }),
  status: z.unknown().optional(),
});

const namespaceSchema = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Namespace'),
  metadata,
});

export type EipDocument = z.infer<typeof eipSchema>;
export type BgpConfDocument = z.infer<typeof bgpConfSchema>;
export type BgpPeerDocument = z.infer<typeof bgpPeerSchema>;

/** A validated pool: an Eip with its address parsed. */
export interface Pool {
  name: string;
  block: AddressBlock;
  protocol: 'bgp' | 'layer2' | 'vip' | 'local';
  interface?: string;
  disable: boolean;
  /** 0 is the highest priority, as in OpenELB. */
  priority: number;
  namespaces: string[];
  namespaceSelector?: Record<string, string>;
  isDefault: boolean;
  allowReserved: boolean;
  /** The document as written (status dropped), for rendering and `ls -o json`. */
  document: EipDocument;
}

export interface Namespace {
  name: string;
  labels: Record<string, string>;
}

export interface BgpConf {
  as: number;
  routerId?: string;
  listenPort?: number;
  listenAddresses?: string[];
  document: BgpConfDocument;
}

export interface BgpPeer {
  name: string;
  peerAs: number;
  localAs?: number;
  neighborAddress: string;
  port: number;
  adminDown: boolean;
  families: ('ipv4' | 'ipv6')[];
  holdTime?: number;
  keepaliveInterval?: number;
  connectRetry?: number;
  document: BgpPeerDocument;
}

export interface EipDocuments {
  pools: Pool[];
  namespaces: Namespace[];
  bgpConf?: BgpConf;
  bgpPeers: BgpPeer[];
}

function zodError(where: string, err: z.ZodError): EipError {
  const first = err.issues[0]!;
  const path = first.path.map(String).join('.');
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : '';
  return new EipError(
    'SPROUT_ERR_EIP_BAD_SPEC',
    `${first.message}${more}`,
    path ? `${where}: ${path}` : where,
  );
}

/** The document as the user wrote it, minus `status`: what is stored and rendered. */
function asWritten<T>(doc: unknown): T {
  const { status: _status, ...rest } = structuredClone(doc) as Record<string, unknown>;
  return rest as T;
}

function parseWith<T>(schema: z.ZodType<T>, doc: unknown, where: string): T {
  const r = schema.safeParse(doc);
  if (!r.success) throw zodError(where, r.error);
  return r.data;
}

/** Validates one Eip document into a pool (address parsed, interface required where OpenELB needs it). */
export function parseEip(doc: unknown, where = 'Eip'): Pool {
  const d = parseWith(eipSchema, doc, where);
  where = `Eip/${d.metadata.name}`;
  const block = parseAddressBlock(d.spec.address, `${where}: spec.address`);
  if ((d.spec.protocol === 'layer2' || d.spec.protocol === 'vip') && !d.spec.interface) {
    throw new EipError(
      'SPROUT_ERR_EIP_BAD_SPEC',
      `protocol ${d.spec.protocol} needs an interface`,
      `${where}: spec.interface`,
    );
  }
  const ann = d.metadata.annotations ?? {};
  const flag = (key: string) => {
    const v = ann[key];
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    throw new EipError(
      'SPROUT_ERR_EIP_BAD_SPEC',
      `must be "true" or "false", got ${JSON.stringify(v)}`,
      `${where}: metadata.annotations.${key}`,
    );
  };
  return {
    name: d.metadata.name,
    block,
    protocol: d.spec.protocol,
    ...(d.spec.interface ? { interface: d.spec.interface } : {}),
    disable: d.spec.disable,
    priority: d.spec.priority,
    namespaces: d.spec.namespaces,
    ...(d.spec.namespaceSelector ? { namespaceSelector: d.spec.namespaceSelector } : {}),
    isDefault: flag(DEFAULT_EIP_ANNOTATION),
    allowReserved: flag(ALLOW_RESERVED_ANNOTATION),
    document: asWritten<EipDocument>(doc),
  };
}

export function parseBgpConf(doc: unknown, where = 'BgpConf'): BgpConf {
  const d = parseWith(bgpConfSchema, doc, where);
  where = `BgpConf/${d.metadata.name}`;
  if (d.metadata.name !== 'default') {
    throw new EipError(
      'SPROUT_ERR_EIP_BAD_SPEC',
      "only the BgpConf named 'default' is used (as in OpenELB); rename it",
      `${where}: metadata.name`,
    );
  }
  if (d.spec.routerId !== undefined) {
    const id = parseIp(d.spec.routerId, `${where}: spec.routerId`);
    if (id.family !== 4)
      throw new EipError('SPROUT_ERR_EIP_BAD_SPEC', 'must be an IPv4 address', `${where}: spec.routerId`);
  }
  for (const a of d.spec.listenAddresses ?? []) parseIp(a, `${where}: spec.listenAddresses`);
  return {
    as: d.spec.as,
    ...(d.spec.routerId ? { routerId: d.spec.routerId } : {}),
    ...(d.spec.listenPort !== undefined ? { listenPort: d.spec.listenPort } : {}),
    ...(d.spec.listenAddresses ? { listenAddresses: d.spec.listenAddresses } : {}),
    document: asWritten<BgpConfDocument>(doc),
  };
}

export function parseBgpPeer(doc: unknown, where = 'BgpPeer'): BgpPeer {
  const d = parseWith(bgpPeerSchema, doc, where);
  where = `BgpPeer/${d.metadata.name}`;
  const address = d.spec.transport?.remoteAddress ?? d.spec.conf.neighborAddress;
  parseIp(d.spec.conf.neighborAddress, `${where}: spec.conf.neighborAddress`);
  const families = (d.spec.afiSafis ?? [])
    .filter((f) => f.config.enabled)
    .map((f) => (f.config.family.afi === 'AFI_IP' ? 'ipv4' : 'ipv6') as 'ipv4' | 'ipv6');
  const t = d.spec.timers?.config;
  return {
    name: d.metadata.name,
    peerAs: d.spec.conf.peerAs,
    ...(d.spec.conf.localAs !== undefined ? { localAs: d.spec.conf.localAs } : {}),
    neighborAddress: canonicalIp(address, `${where}: spec.transport.remoteAddress`),
    port: d.spec.transport?.remotePort ?? 179,
    adminDown: d.spec.conf.adminDown,
    families: families.length ? [...new Set(families)] : ['ipv4', 'ipv6'],
    ...(t?.holdTime !== undefined ? { holdTime: t.holdTime } : {}),
    ...(t?.keepaliveInterval !== undefined ? { keepaliveInterval: t.keepaliveInterval } : {}),
    ...(t?.connectRetry !== undefined ? { connectRetry: t.connectRetry } : {}),
    document: asWritten<BgpPeerDocument>(doc),
  };
}

export function parseNamespace(doc: unknown, where = 'Namespace'): Namespace {
  const d = parseWith(namespaceSchema, doc, where);
  return { name: d.metadata.name, labels: d.metadata.labels ?? {} };
}

/** Refuses overlapping pools and a second default Eip, naming both pools. */
export function checkPools(pools: Pool[]): void {
  const seen = new Set<string>();
  for (const p of pools) {
    if (seen.has(p.name)) throw new EipError('SPROUT_ERR_EIP_BAD_SPEC', 'is defined twice', `Eip/${p.name}`);
    seen.add(p.name);
  }
  const defaults = pools.filter((p) => p.isDefault);
  if (defaults.length > 1) {
    throw new EipError(
      'SPROUT_ERR_EIP_SECOND_DEFAULT',
      `Eip/${defaults[1]!.name} is marked default but Eip/${defaults[0]!.name} already is; only one Eip may carry ${DEFAULT_EIP_ANNOTATION}: "true"`,
    );
  }
  const sorted = [...pools].sort(
    (a, b) => a.block.family - b.block.family || (a.block.first < b.block.first ? -1 : 1),
  );
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (blocksOverlap(a.block, b.block)) {
      throw new EipError(
        'SPROUT_ERR_EIP_POOL_OVERLAP',
        `Eip/${b.name} (${b.block.text}) overlaps Eip/${a.name} (${a.block.text}); pools may not share addresses`,
      );
    }
  }
}

/**
 * Parses a multi-document YAML file of Eip, BgpConf, BgpPeer and v1 Namespace documents. Errors name
 * the document (index and kind/name) and the field. Any other document is an error, unless `other`
 * is given: it then receives every other object document (see `parseWorkloadYaml`).
 *
 * @example
 * const docs = parseEipYaml(fs.readFileSync('pools.yaml', 'utf8'));
 */
export function parseEipYaml(
  text: string,
  source = 'input',
  other?: (value: Record<string, unknown>, where: string) => void,
): EipDocuments {
  const out: EipDocuments = { pools: [], namespaces: [], bgpPeers: [] };
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return out;
  docs.forEach((doc, i) => {
    const where = `${source} document ${i + 1}`;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      throw new EipError('SPROUT_ERR_EIP_BAD_SPEC', `YAML: ${e.message.split('\n')[0]}`, where);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    const kind = (value as { kind?: unknown }).kind;
    const apiVersion = (value as { apiVersion?: unknown }).apiVersion;
    if (kind === 'Eip' || kind === 'BgpConf' || kind === 'BgpPeer') {
      if (apiVersion !== EIP_API_VERSION) {
        throw new EipError(
          'SPROUT_ERR_EIP_BAD_SPEC',
          `${String(kind)} must use apiVersion ${EIP_API_VERSION}, got ${JSON.stringify(apiVersion)}`,
          `${where}: apiVersion`,
        );
      }
    }
    if (kind === 'Eip') out.pools.push(parseEip(value, where));
    else if (kind === 'BgpConf') {
      if (out.bgpConf)
        throw new EipError(
          'SPROUT_ERR_EIP_BAD_SPEC',
          'a second BgpConf; only one (named default) is allowed',
          where,
        );
      out.bgpConf = parseBgpConf(value, where);
    } else if (kind === 'BgpPeer') out.bgpPeers.push(parseBgpPeer(value, where));
    else if (kind === 'Namespace' && (!other || apiVersion === 'v1'))
      out.namespaces.push(parseNamespace(value, where));
    else if (other && typeof value === 'object' && !Array.isArray(value))
      other(value as Record<string, unknown>, where);
    else {
      throw new EipError(
        'SPROUT_ERR_EIP_BAD_SPEC',
        `unknown kind ${JSON.stringify(kind)}; expected Eip, BgpConf, BgpPeer or Namespace`,
        `${where}: kind`,
      );
    }
  });
  checkPools(out.pools);
  return out;
}

/** True when a namespace may auto-allocate from a pool: listed by name or matched by the label selector. */
export function poolServesNamespace(pool: Pool, ns: Namespace): boolean {
  if (pool.namespaces.includes(ns.name)) return true;
  const sel = pool.namespaceSelector;
  if (!sel || Object.keys(sel).length === 0) return false;
  return Object.entries(sel).every(([k, v]) => ns.labels[k] === v);
}
