import type { OciLayout } from '../oci/layout.js';
import { parseReference } from '../registry/reference.js';
import { pullImage, pushImage, type PushResult, type TransferOptions } from '../registry/transfer.js';
import { rebaseImage } from './rebase.js';

/**
 * `sprout rebase IMAGE --run-image REF` against a registry: reads the app's manifest and config
 * (not its layers), takes the new run image, rebases and pushes the result to `options.tag` (default:
 * the app's own reference). When both are on the same registry nothing but the new config and
 * manifest travel: run-image layers are mounted across repositories and app layers are there already.
 *
 * @example
 * await rebaseInRegistry('127.0.0.1:5000/team/app:1', '127.0.0.1:5000/base/run:2', layout, { plainHttp: true });
 */
export async function rebaseInRegistry(
  appReference: string,
  runReference: string,
  layout: OciLayout,
  options: TransferOptions & { tag?: string } = {},
): Promise<PushResult & { appLayers: number }> {
  const appRef = parseReference(appReference);
  const runRef = parseReference(runReference);
  const sameRegistry = appRef.registry === runRef.registry;
  const app = await pullImage(appReference, layout, { ...options, layers: false });
  const run = await pullImage(runReference, layout, { ...options, layers: !sameRegistry });
  const { image, appLayers } = await rebaseImage(layout, app, { image: run, ref: runReference });
  const pushed = await pushImage(layout, image, options.tag ?? appReference, {
    ...options,
    mountFrom: [...(options.mountFrom ?? []), ...(sameRegistry ? [runRef.repository] : [])],
  });
  return { ...pushed, appLayers };
}
