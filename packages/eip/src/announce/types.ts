import type { HeldAddress } from '../manager/synced-state.js';

/** Makes held addresses reachable, one protocol each (local, bgp, layer2). */
export interface Announcer {
  announce(address: HeldAddress): Promise<void>;
  withdraw(address: HeldAddress): Promise<void>;
  close(): Promise<void>;
}
