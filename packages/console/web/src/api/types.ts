/** Shapes of the platform API's answers (packages/platform/openapi.yaml). */

export interface FunctionView {
  name: string;
  namespace?: string;
  version?: string;
  signature?: string;
  replicas: number;
  readyReplicas: number;
  [key: string]: unknown;
}

export interface FunctionList {
  functions: FunctionView[];
  problems: { code: string; message: string }[];
}
