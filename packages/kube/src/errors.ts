import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code the kube package raises, with the HTTP status a server answers it with. Codes are
 * stable: a retired code is never reused. Each is listed in the package README; `errors.test.ts`
 * keeps both in step. Retired: SPROUT_ERR_KUBE_INVALID_YAML (reading function.yaml is @sprout/spec's).
 */
export const KUBE_ERROR_CODES = {
  SPROUT_ERR_KUBE_INVALID_MANIFEST: { status: 400 },
  SPROUT_ERR_KUBE_RENDER_UNSUPPORTED: { status: 400 },
} as const satisfies Record<string, { status: number }>;

export type KubeErrorCode = keyof typeof KUBE_ERROR_CODES;

/**
 * An error from rendering or validating Kubernetes manifests, with a stable code and, where one
 * applies, the field at fault as `field`.
 */
export class KubeError extends SproutError<KubeErrorCode> {
  override name = 'KubeError';
  constructor(code: KubeErrorCode, message: string, options: Omit<SproutErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: KUBE_ERROR_CODES[code].status });
  }
}
