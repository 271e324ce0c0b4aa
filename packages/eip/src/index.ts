export { EipError, EIP_ERROR_CODES, isEipError, type EipErrorCode } from './errors.js';
export {
  parseIp,
  formatIp,
  canonicalIp,
  parseAddressBlock,
  blockSize,
  blocksOverlap,
  blockContains,
  reservedAddresses,
  type Ip,
  type IpFamily,
  type AddressBlock,
} from './ip.js';
export {
  parseEipYaml,
  parseEip,
  parseBgpConf,
  parseBgpPeer,
  parseNamespace,
  checkPools,
  poolServesNamespace,
  EIP_API_VERSION,
  DEFAULT_EIP_ANNOTATION,
  ALLOW_RESERVED_ANNOTATION,
  type Pool,
  type Namespace,
  type BgpConf,
  type BgpPeer,
  type EipDocuments,
  type EipDocument,
  type BgpConfDocument,
  type BgpPeerDocument,
} from './spec.js';
export { AllocatorState } from './allocator.js';
export {
  serviceKey,
  type AllocationRequest,
  type Allocation,
  type ServiceState,
  type ServicePort,
  type PendingCondition,
  type PendingReason,
  type PoolUsage,
  type IpFamilyPolicy,
} from './allocation.js';
export { createEipManager, EipManager, type EipManagerOptions } from './manager.js';
export type { ApplyResult } from './manager/apply.js';
export type { HeldAddress } from './manager/synced-state.js';
export type { StoredEvent } from './store.js';
export {
  renderEip,
  renderBgpConf,
  renderBgpPeer,
  renderService,
  renderServiceAnnotations,
  renderEipManifests,
  OPENELB_ANNOTATIONS,
} from './render.js';
export type { Announcer } from './announce/types.js';
export { createLocalAnnouncer, isLoopback, type LocalAnnouncerOptions } from './announce/local.js';
export { createLayer2Announcer, type Layer2AnnouncerOptions } from './announce/layer2.js';
export { startAnnouncing, type Announcing, type AnnouncingOptions } from './announce/runner.js';
export { createAnnouncers, type CreateAnnouncersOptions } from './announce/index.js';
export { BgpParser, encodeMessage } from './bgp/messages.js';
export {
  BgpMessageError,
  type BgpMessage,
  type OpenMessage,
  type UpdateMessage,
  type NotificationMessage,
  type CodecOptions,
} from './bgp/message-types.js';
export { BgpSession, type BgpSessionOptions, type SessionState } from './bgp/session.js';
export { createBgpAnnouncer, type BgpAnnouncer, type BgpAnnouncerOptions } from './bgp/speaker.js';
export {
  parseWorkloadYaml,
  applyWorkload,
  OPENELB_PROTOCOL_ANNOTATION,
  type Workload,
  type WorkloadService,
  type WorkloadAllocation,
  type SkippedDocument,
} from './workload.js';
