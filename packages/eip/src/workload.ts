import { z } from 'zod';
import type { AllocationRequest, ServiceState } from './allocation.js';
import { EipError } from './errors.js';
import { canonicalIp } from './ip.js';
import type { ApplyResult } from './manager/apply.js';
import type { EipManager } from './manager.js';
import { validateRequest } from './manager/request.js';
import { OPENELB_ANNOTATIONS } from './render.js';
import { parseEipYaml, type EipDocuments, type Pool } from './spec.js';

/** OpenELB's protocol annotation on a Service: read before 0.6.0, ignored since (the Eip's protocol decides). */
export const OPENELB_PROTOCOL_ANNOTATION = 'protocol.openelb.kubesphere.io/v1alpha1';
const NODE_PROXY_ANNOTATION = 'node-proxy.openelb.kubesphere.io/type';

/** A LoadBalancer Service OpenELB would allocate for, as an allocation request and what chose it. */
export interface WorkloadService {
  request: AllocationRequest;
  /** What decides the address: a named Eip, a specific IP (annotation or spec.loadBalancerIP), or OpenELB's automatic choice. */
  by: 'eip-annotation' | 'ip-annotation' | 'loadBalancerIP' | 'automatic';
  /** The protocol annotation as written, if any. */
  protocol?: string;
}

/** A document Sprout reads past, with why. */
export interface SkippedDocument {
  /** `kind/name`, e.g. `Deployment/mylbapp`. */
  name: string;
  reason: string;
}

export interface Workload {
  eip: EipDocuments;
  services: WorkloadService[];
  skipped: SkippedDocument[];
}

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label (a-z, 0-9 and -)');
const serviceSchema = z.object({
  metadata: z.looseObject({
    name: dnsLabel.max(63),
    namespace: dnsLabel.max(63).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.looseObject({
    type: z.literal('LoadBalancer'),
    loadBalancerIP: z.string().optional(),
    ports: z
      .array(
        z.looseObject({
          port: z.number().int().min(1).max(65535),
          protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
        }),
      )
      .optional(),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    ipFamilies: z
      .array(z.enum(['IPv4', 'IPv6']))
      .max(2)
      .optional(),
  }),
});

function docName(value: Record<string, unknown>): string {
  const meta = value.metadata as { name?: unknown } | undefined;
  const name = typeof meta?.name === 'string' ? meta.name : '(unnamed)';
  return `${typeof value.kind === 'string' ? value.kind : '(no kind)'}/${name}`;
}

/** Why OpenELB (and so Sprout) leaves a Service alone, or undefined when it allocates for it. */
function notOpenElb(value: Record<string, unknown>): string | undefined {
  if (value.apiVersion !== 'v1') return `apiVersion ${JSON.stringify(value.apiVersion)} is not v1`;
  const spec = value.spec as { type?: unknown } | undefined;
  const ann = (value.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
  if (spec?.type !== 'LoadBalancer')
    return `spec.type is ${String(spec?.type ?? 'ClusterIP')}; OpenELB allocates for LoadBalancer Services only`;
  if (ann?.[NODE_PROXY_ANNOTATION] !== undefined)
    return `${NODE_PROXY_ANNOTATION}: OpenELB NodeProxy is not supported by Sprout`;
  if (ann?.[OPENELB_ANNOTATIONS.loadBalancer] !== 'openelb')
    return `no ${OPENELB_ANNOTATIONS.loadBalancer}: openelb annotation; OpenELB leaves it to another load balancer`;
  return undefined;
}

/** The allocation request for an OpenELB Service (already known to carry the annotation). */
function serviceRequest(value: Record<string, unknown>, where: string): WorkloadService {
  const r = serviceSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new EipError('SPROUT_ERR_EIP_BAD_SPEC', i.message, `${where}: ${i.path.join('.')}`);
  }
  const { metadata, spec } = r.data;
  where = `${where} (Service/${metadata.name})`;
  const ann = metadata.annotations ?? {};
  // As OpenELB: the IP annotation, when present, wins over spec.loadBalancerIP.
  const ipText = ann[OPENELB_ANNOTATIONS.ip] ?? spec.loadBalancerIP ?? '';
  const fromAnnotation = ann[OPENELB_ANNOTATIONS.ip] !== undefined;
  const field = fromAnnotation ? `metadata.annotations.${OPENELB_ANNOTATIONS.ip}` : 'spec.loadBalancerIP';
  const ips = ipText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((ip) => canonicalIp(ip, `${where}: ${field}`));
  const pool = ann[OPENELB_ANNOTATIONS.pool];
  const request: AllocationRequest = {
    namespace: metadata.namespace ?? 'default',
    name: metadata.name,
    ...(pool ? { pool } : {}),
    // OpenELB shares a requested address among the Services asking for it; Sprout does so only
    // when their ports do not overlap (the sharing key is the address).
    ...(ips.length ? { ips, sharingKey: `openelb-ip:${ips.join(',')}` } : {}),
    ...(spec.ports ? { ports: spec.ports.map((p) => ({ port: p.port, protocol: p.protocol })) } : {}),
    ...(spec.ipFamilyPolicy ? { ipFamilyPolicy: spec.ipFamilyPolicy } : {}),
    ...(spec.ipFamilies ? { ipFamilies: spec.ipFamilies } : {}),
  };
  const protocol = ann[OPENELB_PROTOCOL_ANNOTATION];
  const by: WorkloadService['by'] = ips.length
    ? fromAnnotation
      ? 'ip-annotation'
      : 'loadBalancerIP'
    : pool
      ? 'eip-annotation'
      : 'automatic';
  try {
    validateRequest(request);
  } catch (err) {
    // Names and address families the allocator would refuse, said against the document.
    const e = err as EipError;
    const f =
      e.field === 'pool'
        ? `metadata.annotations.${OPENELB_ANNOTATIONS.pool}`
        : e.field === 'ips'
          ? field
          : e.field;
    throw new EipError('SPROUT_ERR_EIP_BAD_SPEC', e.message.replace(`${e.field}: `, ''), `${where}: ${f}`);
  }
  return { request, by, ...(protocol ? { protocol } : {}) };
}

/**
 * Reads a file as OpenELB's samples and docs write them: Eip, BgpConf, BgpPeer and Namespace
 * documents, LoadBalancer Services carrying `lb.kubesphere.io/v1alpha1: openelb`, and anything else
 * (Deployments, other Services), which is listed as skipped with the reason.
 *
 * @example
 * const w = parseWorkloadYaml(fs.readFileSync('workload.yaml', 'utf8'), 'workload.yaml');
 */
export function parseWorkloadYaml(text: string, source = 'input'): Workload {
  const services: WorkloadService[] = [];
  const skipped: SkippedDocument[] = [];
  const eip = parseEipYaml(text, source, (value, where) => {
    const why = value.kind === 'Service' ? notOpenElb(value) : 'Sprout does not act on this kind';
    if (why) skipped.push({ name: docName(value), reason: why });
    else services.push(serviceRequest(value, where));
  });
  return { eip, services, skipped };
}

/** One Service of an applied workload: its state and why it got (or did not get) its address. */
export interface WorkloadAllocation {
  service: ServiceState;
  why: string;
}

function explain(s: WorkloadService, state: ServiceState, pools: Pool[], held: boolean): string {
  if (state.status === 'pending') return `${state.condition!.reason}: ${state.condition!.message}`;
  const pool = pools.find((p) => p.name === state.addresses[0]!.pool)!;
  const ns = s.request.namespace;
  const named = s.request.pool ? `, Eip named by ${OPENELB_ANNOTATIONS.pool}` : '';
  const why = held
    ? 'held since an earlier apply (release it to move it)'
    : s.by === 'eip-annotation'
      ? `named by ${OPENELB_ANNOTATIONS.pool}`
      : s.by === 'ip-annotation'
        ? `address from ${OPENELB_ANNOTATIONS.ip}${named}`
        : s.by === 'loadBalancerIP'
          ? `address from spec.loadBalancerIP${named}`
          : pool.namespaces.includes(ns)
            ? `bound to namespace ${ns} by spec.namespaces`
            : pool.isDefault
              ? `the default Eip (none is bound to namespace ${ns})`
              : `bound to namespace ${ns} by spec.namespaceSelector`;
  const proto =
    s.protocol && s.protocol !== pool.protocol
      ? `; ${OPENELB_PROTOCOL_ANNOTATION}: ${s.protocol} ignored, the Eip's protocol ${pool.protocol} applies (as OpenELB 0.6)`
      : '';
  return `Eip/${pool.name} (${pool.protocol}), ${why}${proto}`;
}

/**
 * Applies a workload file: its Eip, BgpConf, BgpPeer and Namespace documents first, then an
 * allocation for each OpenELB Service, in file order.
 */
export function applyWorkload(
  manager: EipManager,
  workload: Workload,
): { applied: ApplyResult; services: WorkloadAllocation[]; skipped: SkippedDocument[] } {
  const applied = manager.apply(workload.eip);
  const held = workload.services.map(
    (s) => manager.get(s.request.namespace, s.request.name)?.status === 'allocated',
  );
  const states = manager.allocateMany(workload.services.map((s) => s.request));
  const pools = manager.pools();
  return {
    applied,
    services: states.map((service, i) => ({
      service,
      why: explain(workload.services[i]!, service, pools, held[i]!),
    })),
    skipped: workload.skipped,
  };
}
