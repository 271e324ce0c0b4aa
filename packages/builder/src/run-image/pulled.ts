import type { OciLayout } from '../oci/layout.js';
import { pullImage, type TransferOptions } from '../registry/transfer.js';
import type { RunImage } from './assemble.js';

/** The uid:gid of an image's `User` when numeric (else the CNB default 1000:1000). */
function userOf(user: string | undefined): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : { uid: 1000, gid: 1000 };
}

/**
 * A run image pulled from a registry (`--run-image REF`) into `layout`; its processes run as the
 * image's numeric `User`, else 1000:1000.
 *
 * @example
 * const run = await pulledRunImage(layout, '127.0.0.1:5000/base/run:1', { plainHttp: true });
 */
export async function pulledRunImage(
  layout: OciLayout,
  reference: string,
  options: TransferOptions = {},
): Promise<RunImage> {
  const image = await pullImage(reference, layout, options);
  return { image, ref: reference, ...userOf(image.config.config?.User) };
}
