import type { IpFamily } from './ip.js';
import type { Pool } from './spec.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export interface ServicePort {
  port: number;
  protocol: Protocol;
}
export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** What a service asks for; mirrors the OpenELB Service annotations and Service spec fields. */
export interface AllocationRequest {
  namespace: string;
  name: string;
  /** A pool by name (OpenELB `eip.openelb.kubesphere.io/v1alpha2` annotation). */
  pool?: string;
  /** Specific addresses, at most one per family (OpenELB `eip.openelb.kubesphere.io/v1alpha1` / loadBalancerIP). */
  ips?: string[];
  /** Services with the same key may share an address when their ports do not overlap (MetalLB). */
  sharingKey?: string;
  ports?: ServicePort[];
  ipFamilyPolicy?: IpFamilyPolicy;
  /** Family order; default IPv4 first. */
  ipFamilies?: ('IPv4' | 'IPv6')[];
}

/** One address held by a service. */
export interface Allocation {
  ip: string;
  family: IpFamily;
  pool: string;
  sharingKey?: string;
  ports: ServicePort[];
}

export type PendingReason =
  | 'NoPoolForNamespace'
  | 'PoolNotFound'
  | 'PoolDisabled'
  | 'PoolExhausted'
  | 'IpNotInPool'
  | 'IpInUse'
  | 'IpReserved'
  | 'FamilyUnavailable';

/** Why a service has no address yet, as a Kubernetes-style condition. */
export interface PendingCondition {
  reason: PendingReason;
  message: string;
}

export interface ServiceState {
  key: string;
  namespace: string;
  name: string;
  request: AllocationRequest;
  status: 'allocated' | 'pending';
  addresses: Allocation[];
  condition?: PendingCondition;
}

export interface PoolUsage {
  name: string;
  family: IpFamily;
  address: string;
  protocol: Pool['protocol'];
  isDefault: boolean;
  disabled: boolean;
  priority: number;
  /** Addresses that can be handed out (reserved ones excluded); a float above 2^53. */
  size: number;
  used: number;
  free: number;
}

export const serviceKey = (namespace: string, name: string) => `${namespace}/${name}`;
