import type { AllocatorState } from '../allocator.js';
import { EipError } from '../errors.js';
import { blockContains, parseIp } from '../ip.js';
import type { Pool } from '../spec.js';

/** What `apply` did, per document kind. */
export interface ApplyResult {
  pools: { name: string; action: 'created' | 'updated' | 'unchanged' }[];
  namespaces: string[];
  bgp: string[];
  /** Non-fatal findings, e.g. a namespaceSelector matching no known namespace. */
  warnings: string[];
  /** Services that were pending and got addresses because of this apply. */
  allocated: string[];
}

/** Refuses (`SPROUT_ERR_EIP_POOL_IN_USE`) a pool update whose new address drops one a service holds. */
export function refuseDroppedAddresses(state: AllocatorState, pools: Pool[]): void {
  for (const p of pools) {
    for (const s of state.servicesInPool(p.name)) {
      for (const a of s.addresses) {
        if (a.pool === p.name && !blockContains(p.block, parseIp(a.ip))) {
          throw new EipError(
            'SPROUT_ERR_EIP_POOL_IN_USE',
            `the new address ${p.block.text} drops ${a.ip}, held by ${s.key}; release it or drain the pool first`,
            `Eip/${p.name}`,
          );
        }
      }
    }
  }
}

/** Whether applying `next` creates, changes or leaves the stored pool as it is. */
export function poolAction(old: Pool | undefined, next: Pool): ApplyResult['pools'][number]['action'] {
  if (!old) return 'created';
  return JSON.stringify(old.document) === JSON.stringify(next.document) ? 'unchanged' : 'updated';
}

/** A warning when a pool's namespaceSelector matches none of the known namespaces. */
export function unmatchedSelector(state: AllocatorState, p: Pool): string | undefined {
  const sel = p.namespaceSelector;
  if (
    !sel ||
    !Object.keys(sel).length ||
    [...state.namespaces.values()].some((ns) => Object.entries(sel).every(([k, v]) => ns.labels[k] === v))
  )
    return undefined;
  return `Eip/${p.name}: namespaceSelector ${JSON.stringify(sel)} matches no known namespace (apply Namespace documents with those labels)`;
}
