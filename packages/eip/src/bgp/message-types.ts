// BGP-4 messages as typed values (RFC 4271) with capabilities (RFC 5492), multiprotocol (RFC 4760)
// and 4-octet AS numbers (RFC 6793).
import { EipError } from '../errors.js';

export type Capability =
  | { code: 1; afi: number; safi: number }
  | { code: 2 }
  | { code: 65; as: number }
  | { code: number; data: Buffer };

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet field; AS_TRANS when the real AS needs 4 octets (see the AS4 capability). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capability[];
}

/** A prefix: address text and length. */
export interface Prefix {
  prefix: string;
  length: number;
}

interface PathAttribute {
  flags: number;
  code: number;
  data: Buffer;
}

export interface UpdateMessage {
  type: 'update';
  withdrawn: Prefix[];
  origin?: number;
  asPath?: number[];
  nextHop?: string;
  localPref?: number;
  med?: number;
  nlri: Prefix[];
  mpReach?: { afi: number; safi: number; nextHop: string[]; nlri: Prefix[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: Prefix[] };
  /** Attributes not understood here, kept as they came. */
  other: PathAttribute[];
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
}

interface KeepaliveMessage {
  type: 'keepalive';
}

interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** A malformed message; carries the NOTIFICATION code/subcode to send and the byte offset at fault. */
export class BgpMessageError extends EipError {
  constructor(
    readonly notifyCode: number,
    readonly notifySubcode: number,
    message: string,
    readonly offset: number,
  ) {
    super(
      'SPROUT_ERR_EIP_BGP_MESSAGE',
      `${message} (at byte ${offset}; NOTIFICATION ${notifyCode}/${notifySubcode})`,
    );
  }
}

export interface CodecOptions {
  /** Both sides sent the 4-octet AS capability: AS_PATH numbers are 4 octets. Default true. */
  as4?: boolean;
}
