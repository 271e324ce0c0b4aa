import type { ServiceState } from './allocation.js';
import { EipError } from './errors.js';
import { ALLOW_RESERVED_ANNOTATION, EIP_API_VERSION, type BgpConf, type BgpPeer, type Pool } from './spec.js';

/** The Service annotations OpenELB reads. */
export const OPENELB_ANNOTATIONS = {
  loadBalancer: 'lb.kubesphere.io/v1alpha1',
  pool: 'eip.openelb.kubesphere.io/v1alpha2',
  ip: 'eip.openelb.kubesphere.io/v1alpha1',
} as const;

type Manifest = Record<string, unknown>;

/** An Eip manifest for OpenELB. `local` pools exist on one machine only and are refused. */
export function renderEip(pool: Pool): Manifest {
  if (pool.protocol === 'local') {
    throw new EipError(
      'SPROUT_ERR_EIP_BAD_SPEC',
      'protocol local works on one machine only; use bgp, layer2 or vip for Kubernetes',
      `Eip/${pool.name}: spec.protocol`,
    );
  }
  const { [ALLOW_RESERVED_ANNOTATION]: _sproutOnly, ...annotations } =
    pool.document.metadata.annotations ?? {};
  return {
    apiVersion: EIP_API_VERSION,
    kind: 'Eip',
    metadata: { name: pool.name, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: pool.document.spec,
  };
}

export function renderBgpConf(conf: BgpConf): Manifest {
  return {
    apiVersion: EIP_API_VERSION,
    kind: 'BgpConf',
    metadata: { name: 'default' },
    spec: conf.document.spec,
  };
}

export function renderBgpPeer(peer: BgpPeer): Manifest {
  const spec = structuredClone(peer.document.spec) as Record<string, unknown> & {
    timers?: { config?: Record<string, unknown> };
  };
  // The CRD types timers as strings; YAML often has numbers.
  const timers = spec.timers?.config;
  if (timers) for (const k of Object.keys(timers)) timers[k] = String(timers[k]);
  return { apiVersion: EIP_API_VERSION, kind: 'BgpPeer', metadata: { name: peer.name }, spec };
}

/** Annotations that make OpenELB allocate for this service the way Sprout was asked to. */
export function renderServiceAnnotations(service: ServiceState): Record<string, string> {
  const r = service.request;
  return {
    [OPENELB_ANNOTATIONS.loadBalancer]: 'openelb',
    ...(r.pool ? { [OPENELB_ANNOTATIONS.pool]: r.pool } : {}),
    ...(r.ips?.length ? { [OPENELB_ANNOTATIONS.ip]: r.ips.join(',') } : {}),
  };
}

/** A LoadBalancer Service skeleton (no selector) carrying the OpenELB annotations. */
export function renderService(service: ServiceState): Manifest {
  const r = service.request;
  const ports = (r.ports ?? [{ port: 80, protocol: 'TCP' as const }]).map((p) => ({
    name: `${p.protocol.toLowerCase()}-${p.port}`,
    port: p.port,
    protocol: p.protocol,
  }));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: r.name, namespace: r.namespace, annotations: renderServiceAnnotations(service) },
    spec: {
      type: 'LoadBalancer',
      ports,
      ...(r.ipFamilyPolicy ? { ipFamilyPolicy: r.ipFamilyPolicy } : {}),
      ...(r.ipFamilies?.length ? { ipFamilies: r.ipFamilies } : {}),
    },
  };
}

/**
 * Every manifest OpenELB needs for these pools, BGP settings and services, in apply order.
 *
 * @example
 * const docs = renderEipManifests({ pools: eip.pools(), ...eip.bgp(), services: eip.services() });
 */
export function renderEipManifests(input: {
  pools: Pool[];
  conf?: BgpConf;
  peers?: BgpPeer[];
  services?: ServiceState[];
}): Manifest[] {
  return [
    ...input.pools.map(renderEip),
    ...(input.conf ? [renderBgpConf(input.conf)] : []),
    ...(input.peers ?? []).map(renderBgpPeer),
    ...(input.services ?? []).map(renderService),
  ];
}
