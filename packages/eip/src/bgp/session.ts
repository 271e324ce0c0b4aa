import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createLogger, type Logger } from '@sprout/observe';
import { EipError } from '../errors.js';
import { parseIp } from '../ip.js';
import {
  BgpMessageError,
  type BgpMessage,
  type Capability,
  type OpenMessage,
  type Prefix,
  type UpdateMessage,
} from './message-types.js';
import { BgpParser, encodeMessage } from './messages.js';
import { AFI, AS_TRANS, CAP, ERR, SAFI_UNICAST } from './wire.js';

export type SessionState = 'idle' | 'connect' | 'opensent' | 'openconfirm' | 'established' | 'closed';
export type Family = 'ipv4' | 'ipv6';

export interface BgpSessionOptions {
  localAs: number;
  routerId: string;
  peerAs: number;
  address: string;
  port?: number;
  /** Source address for the TCP connection. */
  localAddress?: string;
  /** Seconds; 0 disables keepalives and the hold timer. Default 90. */
  holdTime?: number;
  /** Seconds between KEEPALIVEs; default a third of the negotiated hold time. */
  keepaliveInterval?: number;
  /** First reconnect delay in seconds (doubles up to 60, with jitter). Default 5. */
  connectRetry?: number;
  families?: Family[];
  /**
   * Next hop for IPv6 routes when the session runs over IPv4 (an IPv4-mapped address is refused by
   * peers). Default: the session's local address when it is IPv6, else the machine's first global
   * IPv6 address; without one IPv6 routes are not sent and an error is logged.
   */
  nextHopIpv6?: string;
  logger?: Logger;
}

/** Routes per UPDATE: a /32 takes 5 bytes of NLRI, a /128 17; stay well under 4096 bytes. */
const BATCH = { ipv4: 600, ipv6: 150 } as const;

/**
 * One BGP-4 session to one peer (RFC 4271 FSM, active side): connects, exchanges OPEN with
 * capabilities, keeps the session alive, announces and withdraws host routes, and reconnects with
 * backoff after errors. Inbound routes are accepted and ignored.
 *
 * Events: `state` (SessionState), `established`, `down` (reason: string).
 */
export class BgpSession extends EventEmitter {
  state: SessionState = 'idle';
  /** Routes we want the peer to have: ip → family. */
  private readonly wanted = new Map<string, Family>();
  /** Routes the peer has from us in this session. */
  private readonly sent = new Set<string>();
  private socket: Socket | undefined;
  private parser = new BgpParser();
  private timers: NodeJS.Timeout[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private flushQueued = false;
  private peerFamilies = new Set<Family>();
  private as4 = false;
  private hold = 0;
  private readonly log: Logger;
  readonly stats = { opens: 0, updatesSent: 0, keepalivesSent: 0, notificationsReceived: 0, errors: 0 };

  constructor(readonly options: BgpSessionOptions) {
    super();
    this.log = (options.logger ?? createLogger({ name: 'bgp' })).child({
      peer: `${options.address}:${options.port ?? 179}`,
    });
    if (parseIp(options.routerId).family !== 4)
      throw new EipError('SPROUT_ERR_EIP_BGP_CONFIG', 'router id must be an IPv4 address', 'routerId');
  }

  start(): void {
    if (this.state === 'idle') this.connect();
  }

  /** Makes the peer carry a host route for `ip` (sent now if established, else on establishment). */
  announce(ip: string): void {
    this.wanted.set(ip, parseIp(ip).family === 4 ? 'ipv4' : 'ipv6');
    this.queueFlush();
  }

  withdraw(ip: string): void {
    this.wanted.delete(ip);
    this.queueFlush();
  }

  /** Routes the peer has accepted from this session so far (sent while established). */
  advertised(): string[] {
    return [...this.sent].sort();
  }

  private setState(s: SessionState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
    if (s === 'established') this.emit('established');
  }

  private connect(): void {
    const o = this.options;
    this.setState('connect');
    this.parser = new BgpParser();
    this.sent.clear();
    const socket = connect({
      host: o.address,
      port: o.port ?? 179,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.send(this.openMessage());
      this.setState('opensent');
      this.armHold(240); // RFC 4271 8.2.2: a large hold time until OPEN is received
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        for (const m of this.parser.push(chunk)) this.handle(m);
      } catch (err) {
        if (err instanceof BgpMessageError) {
          this.stats.errors++;
          this.drop(err.message, { code: err.notifyCode, subcode: err.notifySubcode });
        } else throw err;
      }
    });
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => {
      if (this.socket === socket) this.drop('connection closed by peer');
    });
  }

  private openMessage(): OpenMessage {
    const o = this.options;
    const caps: Capability[] = [];
    const fams = o.families ?? ['ipv4', 'ipv6'];
    if (fams.includes('ipv4')) caps.push({ code: CAP.MULTIPROTOCOL, afi: AFI.IPV4, safi: SAFI_UNICAST });
    if (fams.includes('ipv6')) caps.push({ code: CAP.MULTIPROTOCOL, afi: AFI.IPV6, safi: SAFI_UNICAST });
    caps.push({ code: CAP.ROUTE_REFRESH }, { code: CAP.AS4, as: o.localAs });
    return {
      type: 'open',
      version: 4,
      myAs: o.localAs > 0xffff ? AS_TRANS : o.localAs,
      holdTime: o.holdTime ?? 90,
      bgpId: o.routerId,
      capabilities: caps,
    };
  }

  private handle(m: BgpMessage): void {
    this.armHold(this.hold || (this.state === 'opensent' ? 240 : 0));
    switch (m.type) {
      case 'open':
        return this.onOpen(m);
      case 'keepalive':
        if (this.state === 'openconfirm') {
          this.setState('established');
          this.attempts = 0;
          this.log.info({ hold: this.hold, families: [...this.peerFamilies] }, 'BGP session established');
          this.queueFlush();
        } else if (this.state !== 'established') this.fsmError(`KEEPALIVE in state ${this.state}`);
        return;
      case 'update':
        if (this.state !== 'established') this.fsmError(`UPDATE in state ${this.state}`);
        return; // we originate routes only
      case 'route-refresh':
        this.sent.clear();
        this.queueFlush();
        return;
      case 'notification':
        this.stats.notificationsReceived++;
        this.log.warn({ code: m.code, subcode: m.subcode }, 'peer sent NOTIFICATION');
        this.drop(`peer sent NOTIFICATION ${m.code}/${m.subcode}`);
        return;
    }
  }

  private onOpen(m: OpenMessage): void {
    if (this.state !== 'opensent') return this.fsmError(`OPEN in state ${this.state}`);
    const o = this.options;
    const as4cap = m.capabilities.find((c): c is { code: 65; as: number } => c.code === CAP.AS4 && 'as' in c);
    const peerAs = as4cap ? as4cap.as : m.myAs;
    if (peerAs !== o.peerAs)
      return this.drop(`peer AS is ${peerAs}, expected ${o.peerAs}`, { code: ERR.OPEN, subcode: 2 });
    if (m.bgpId === '0.0.0.0' || m.bgpId === o.routerId)
      return this.drop(`bad peer BGP identifier ${m.bgpId}`, { code: ERR.OPEN, subcode: 3 });
    this.as4 = !!as4cap;
    this.parser.options.as4 = this.as4;
    const mp = m.capabilities.filter(
      (c): c is { code: 1; afi: number; safi: number } => c.code === CAP.MULTIPROTOCOL && 'afi' in c,
    );
    this.peerFamilies = new Set(
      mp.length
        ? mp.filter((c) => c.safi === SAFI_UNICAST).map((c) => (c.afi === AFI.IPV6 ? 'ipv6' : 'ipv4'))
        : ['ipv4'], // RFC 4760 8: no capabilities means IPv4 unicast only
    );
    this.hold = Math.min(o.holdTime ?? 90, m.holdTime);
    this.stats.opens++;
    this.send({ type: 'keepalive' });
    this.setState('openconfirm');
    this.armHold(this.hold);
    if (this.hold > 0) {
      const every = (o.keepaliveInterval ?? this.hold / 3) * 1000;
      const t = setInterval(() => this.send({ type: 'keepalive' }), Math.max(every, 100));
      t.unref();
      this.timers.push(t);
    }
  }

  private armHold(seconds: number): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (seconds <= 0) return;
    this.holdTimer = setTimeout(
      () => this.drop('hold timer expired', { code: ERR.HOLD_TIMER, subcode: 0 }),
      seconds * 1000,
    );
    this.holdTimer.unref();
  }

  private fsmError(why: string): void {
    this.drop(why, { code: ERR.FSM, subcode: 0 });
  }

  private send(m: BgpMessage): boolean {
    const s = this.socket;
    if (!s || s.destroyed) return false;
    if (m.type === 'keepalive') this.stats.keepalivesSent++;
    if (m.type === 'update') this.stats.updatesSent++;
    return s.write(encodeMessage(m, { as4: this.as4 }));
  }

  private queueFlush(): void {
    if (this.flushQueued || this.state !== 'established') return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Sends what differs between wanted and sent, in batches; waits for `drain` when the socket is full. */
  private flush(): void {
    if (this.state !== 'established' || !this.socket) return;
    if (this.socket.writableNeedDrain) {
      this.socket.once('drain', () => this.queueFlush());
      return;
    }
    for (const family of ['ipv4', 'ipv6'] as const) {
      const add = [...this.wanted].filter(([ip, f]) => f === family && !this.sent.has(ip)).map(([ip]) => ip);
      const del = [...this.sent].filter(
        (ip) => !this.wanted.has(ip) && (parseIp(ip).family === 4) === (family === 'ipv4'),
      );
      if (!this.peerFamilies.has(family)) continue;
      for (let i = 0; i < del.length; i += BATCH[family]) {
        const chunk = del.slice(i, i + BATCH[family]);
        const m = this.update(family, [], chunk);
        if (m) this.send(m);
        for (const ip of chunk) this.sent.delete(ip);
      }
      for (let i = 0; i < add.length; i += BATCH[family]) {
        const chunk = add.slice(i, i + BATCH[family]);
        const m = this.update(family, chunk, []);
        if (!m) break;
        const ok = this.send(m);
        for (const ip of chunk) this.sent.add(ip);
        if (!ok) {
          this.socket.once('drain', () => this.queueFlush());
          return;
        }
      }
    }
  }

  private nextHop6(local: string): string | undefined {
    if (this.options.nextHopIpv6) return this.options.nextHopIpv6;
    if (local.includes(':') && !local.startsWith('::ffff:')) return local;
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? [])
        if (a.family === 'IPv6' && !a.internal && !a.address.startsWith('fe80')) return a.address;
    }
    return undefined;
  }

  private update(family: Family, add: string[], del: string[]): UpdateMessage | undefined {
    const o = this.options;
    const host = (ip: string): Prefix => ({ prefix: ip, length: family === 'ipv4' ? 32 : 128 });
    const ibgp = o.localAs === o.peerAs;
    const attrs = add.length
      ? { origin: 0, asPath: ibgp ? [] : [o.localAs], ...(ibgp ? { localPref: 100 } : {}) }
      : {};
    const local = this.socket?.localAddress ?? '0.0.0.0';
    if (family === 'ipv4') {
      return {
        type: 'update',
        withdrawn: del.map(host),
        ...attrs,
        ...(add.length ? { nextHop: local.replace(/^::ffff:/, '') } : {}),
        nlri: add.map(host),
        other: [],
      };
    }
    const nextHop = add.length ? this.nextHop6(local) : '::';
    if (!nextHop) {
      this.log.error(
        { code: 'SPROUT_ERR_EIP_BGP_CONFIG' },
        'no IPv6 next hop for IPv6 routes over an IPv4 session; set nextHopIpv6',
      );
      return undefined;
    }
    return {
      type: 'update',
      withdrawn: [],
      ...attrs,
      nlri: [],
      other: [],
      ...(add.length
        ? { mpReach: { afi: AFI.IPV6, safi: SAFI_UNICAST, nextHop: [nextHop], nlri: add.map(host) } }
        : {}),
      ...(del.length ? { mpUnreach: { afi: AFI.IPV6, safi: SAFI_UNICAST, withdrawn: del.map(host) } } : {}),
    };
  }

  /** Ends the connection (with a NOTIFICATION when given) and schedules a reconnect with backoff. */
  private drop(reason: string, notify?: { code: number; subcode: number }): void {
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      if (notify && !s.destroyed && s.writable)
        s.end(
          encodeMessage({
            type: 'notification',
            code: notify.code,
            subcode: notify.subcode,
            data: Buffer.alloc(0),
          }),
        );
      s.destroy();
    }
    this.stopTimers();
    this.sent.clear();
    if (this.state === 'closed') return;
    const wasUp = this.state === 'established';
    this.setState('idle');
    this.emit('down', reason);
    (wasUp ? this.log.warn.bind(this.log) : this.log.debug.bind(this.log))({ reason }, 'BGP session down');
    const base = (this.options.connectRetry ?? 5) * 1000;
    const delay = Math.min(base * 2 ** this.attempts, 60_000) * (0.75 + Math.random() * 0.25);
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'idle') this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  /** Sends Cease (administrative shutdown) and closes; the peer drops our routes. */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopTimers();
    const s = this.socket;
    this.socket = undefined;
    this.setState('closed');
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 2000);
        s.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        s.end(encodeMessage({ type: 'notification', code: ERR.CEASE, subcode: 2, data: Buffer.alloc(0) }));
      });
    }
    this.removeAllListeners();
  }
}
