import { fileURLToPath } from 'node:url';
import {
  credentials,
  loadPackageDefinition,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** KEDA's side of the external scaler: a real gRPC client over the vendored externalscaler.proto. */
const PROTO = fileURLToPath(new URL('../proto/externalscaler.proto', import.meta.url));
type Call<Req, Res> = (
  req: Req,
  opts: { deadline?: number },
  cb: (err: ServiceError | null, res: Res) => void,
) => void;

export interface Ref {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

export interface ScalerClient {
  IsActive: Call<Ref, { result: boolean }>;
  GetMetricSpec: Call<
    Ref,
    { metricSpecs: { metricName: string; targetSize: number; targetSizeFloat: number }[] }
  >;
  GetMetrics: Call<
    { scaledObjectRef: Ref; metricName: string },
    { metricValues: { metricName: string; metricValue: number; metricValueFloat: number }[] }
  >;
  StreamIsActive(req: Ref): NodeJS.ReadableStream & { cancel(): void };
  close(): void;
}

/**
 * A client of the scaler at `address` (plaintext unless `creds` say TLS), on a connection of its own
 * (grpc-js otherwise shares one connection between clients of the same address).
 */
export function scalerClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
): ScalerClient {
  const pkg = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
  const Ctor = (
    loadPackageDefinition(pkg).externalscaler as unknown as {
      ExternalScaler: new (address: string, creds: ChannelCredentials, options: object) => ScalerClient;
    }
  ).ExternalScaler;
  return new Ctor(address, creds, { 'grpc.use_local_subchannel_pool': 1 });
}

/** One unary call; rejects with the gRPC error. The deadline (default 10 s) keeps a refused connection from waiting for ever. */
export const call = <Req, Res>(c: ScalerClient, m: keyof ScalerClient, req: Req, deadlineMs = 10_000) =>
  new Promise<Res>((resolve, reject) =>
    (c[m] as unknown as Call<Req, Res>).call(c, req, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );

/** The error a call ends with (undefined when it succeeded). */
export const callError = (c: ScalerClient, m: keyof ScalerClient, req: unknown, deadlineMs?: number) =>
  call(c, m, req, deadlineMs).then(
    () => undefined,
    (e: ServiceError) => e,
  );

/** The ScaledObjectRef KEDA sends for a trigger with this metadata. */
export const ref = (metadata: Record<string, string>): Ref => ({
  name: 'orders',
  namespace: 'shop',
  scalerMetadata: { scalerAddress: 'ignored:9090', ...metadata },
});
