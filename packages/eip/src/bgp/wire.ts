// Numbers of the BGP-4 wire format (RFC 4271, 4760, 5492, 6793).

export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const AS_TRANS = 23456;

/** Message types in the header (RFC 4271 §4.1, RFC 2918). */
export const TYPE = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI_UNICAST = 1;
export const CAP = { MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, AS4: 65 } as const;
export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MED: 4,
  LOCAL_PREF: 5,
  MP_REACH: 14,
  MP_UNREACH: 15,
} as const;
/** Path attribute flags (RFC 4271 §4.3). */
export const FLAG = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED: 0x10 } as const;

/** NOTIFICATION error codes (RFC 4271 §4.5). */
export const ERR = { HEADER: 1, OPEN: 2, UPDATE: 3, HOLD_TIMER: 4, FSM: 5, CEASE: 6 } as const;
