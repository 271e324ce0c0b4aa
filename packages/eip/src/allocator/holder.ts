import type { ServicePort } from '../allocation.js';

const portsOverlap = (a: ServicePort[], b: ServicePort[]) =>
  a.some((x) => b.some((y) => x.port === y.port && x.protocol === y.protocol));

/**
 * The services holding one address with their ports, in the order they took it: the first one
 * inline, further ones (a shared address) in a Map, so the common unshared address costs no Map.
 */
export class Holder {
  private key: string | undefined;
  private ports: ServicePort[] = [];
  private more: Map<string, ServicePort[]> | undefined;

  constructor(
    readonly pool: string,
    readonly sharingKey: string | undefined,
  ) {}

  get size(): number {
    return this.key === undefined ? 0 : 1 + (this.more?.size ?? 0);
  }

  set(key: string, ports: ServicePort[]): void {
    if (this.key === undefined || this.key === key) {
      this.key = key;
      this.ports = ports;
    } else (this.more ??= new Map()).set(key, ports);
  }

  delete(key: string): void {
    if (this.key !== key) {
      this.more?.delete(key);
      return;
    }
    const next = this.more?.entries().next();
    if (next && !next.done) {
      [this.key, this.ports] = next.value;
      this.more!.delete(this.key);
    } else {
      this.key = undefined;
      this.ports = [];
    }
  }

  entries(): [string, ServicePort[]][] {
    if (this.key === undefined) return [];
    const out: [string, ServicePort[]][] = [[this.key, this.ports]];
    if (this.more) out.push(...this.more);
    return out;
  }

  keys(): string[] {
    return this.entries().map((e) => e[0]);
  }

  /** Whether service `key` may share this address too: the same sharing key and no port in common (MetalLB). */
  canShare(key: string, sharingKey: string | undefined, ports: ServicePort[]): boolean {
    if (!sharingKey || this.sharingKey !== sharingKey) return false;
    for (const [other, otherPorts] of this.entries())
      if (other !== key && portsOverlap(ports, otherPorts)) return false;
    return true;
  }
}
