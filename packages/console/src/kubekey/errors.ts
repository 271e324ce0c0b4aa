import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code of the console's KubeKey installer (clusters, pre-flight, kk runs). Codes are
 * stable: a retired code is never reused. Each is documented in the package README ("Clusters
 * (KubeKey)" → "Error codes") with what to do; `errors.test.ts` keeps both in step.
 */
export const CLUSTER_ERROR_CODES = {
  SPROUT_ERR_CONSOLE_CLUSTER_INVALID: { status: 400 },
  SPROUT_ERR_CONSOLE_CLUSTER_YAML_INVALID: { status: 400 },
  SPROUT_ERR_CONSOLE_CLUSTER_NOT_FOUND: { status: 404 },
  SPROUT_ERR_CONSOLE_CLUSTER_EXISTS: { status: 409 },
  SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID: { status: 400 },
  SPROUT_ERR_CONSOLE_CLUSTER_BODY_TOO_LARGE: { status: 413 },
  SPROUT_ERR_CONSOLE_CLUSTER_SECRET_KEY: { status: 500 },
  SPROUT_ERR_CONSOLE_CLUSTER_SECRET_UNREADABLE: { status: 500 },
  SPROUT_ERR_CONSOLE_CLUSTER_RUN_BUSY: { status: 409 },
  SPROUT_ERR_CONSOLE_CLUSTER_RUN_NOT_FOUND: { status: 404 },
  SPROUT_ERR_CONSOLE_CLUSTER_KK_MISSING: { status: 409 },
  SPROUT_ERR_CONSOLE_CLUSTER_ROUTE_NOT_FOUND: { status: 404 },
  SPROUT_ERR_CONSOLE_CLUSTER_INTERNAL: { status: 500 },
} as const satisfies Record<string, { status: number }>;

export type ClusterErrorCode = keyof typeof CLUSTER_ERROR_CODES;

/** A problem at one place in a Cluster config: a JSON pointer (`/spec/hosts/0/address`) and what is wrong. */
export interface FieldIssue {
  path: string;
  message: string;
  /** `error` blocks saving and running; `warning` is shown and allowed. */
  severity: 'error' | 'warning';
}

/** An error of the KubeKey installer, with a stable code, the field at fault and, for a config, every issue. */
export class ClusterError extends SproutError<ClusterErrorCode> {
  override name = 'ClusterError';
  readonly issues: FieldIssue[];
  constructor(
    code: ClusterErrorCode,
    message: string,
    options: Omit<SproutErrorOptions, 'status'> & { issues?: FieldIssue[] } = {},
  ) {
    super(code, message, { ...options, status: CLUSTER_ERROR_CODES[code].status });
    this.issues = options.issues ?? [];
  }

  override toJSON(): ReturnType<SproutError['toJSON']> {
    const body = super.toJSON();
    if (this.issues.length > 0) body.error.issues = this.issues;
    return body;
  }
}
