export type KubeErrorCode = 'SPROUT_ERR_KUBE_INVALID_MANIFEST' | 'SPROUT_ERR_KUBE_INVALID_YAML';

/** An error from rendering or validating Kubernetes manifests, with a stable code. */
export class KubeError extends Error {
  override name = 'KubeError';
  constructor(
    readonly code: KubeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
