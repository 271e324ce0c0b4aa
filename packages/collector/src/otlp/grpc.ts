import {
  Server,
  ServerCredentials,
  status,
  type ServiceDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { CollectorError } from '../errors.js';
import { encodeResponse, type Signal } from './proto.js';

const services: Record<Signal, string> = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

/** What the handler answers: nothing (success) or a gRPC status with a message. */
export type GrpcOutcome = undefined | { code: 'invalid' | 'unavailable'; message: string };

/**
 * An OTLP/gRPC server (the three Export services, unary). Bodies reach `handle` as raw protobuf;
 * messages over `maxBytes` are refused by gRPC itself with RESOURCE_EXHAUSTED.
 */
export function otlpGrpcServer(
  o: { listen: string; port: number; maxBytes: number },
  handle: (signal: Signal, body: Buffer) => Promise<GrpcOutcome>,
) {
  const server = new Server({ 'grpc.max_receive_message_length': o.maxBytes });
  for (const signal of Object.keys(services) as Signal[]) {
    const def = {
      Export: {
        path: services[signal],
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: () => Buffer.from(encodeResponse(signal)),
        responseDeserialize: (b: Buffer) => b,
      },
    } as unknown as ServiceDefinition;
    server.addService(def, {
      Export: (call: ServerUnaryCall<Buffer, unknown>, done: sendUnaryData<unknown>) => {
        handle(signal, call.request).then(
          (r) =>
            r
              ? done({
                  code: r.code === 'invalid' ? status.INVALID_ARGUMENT : status.UNAVAILABLE,
                  details: r.message,
                })
              : done(null, {}),
          (err: Error) => done({ code: status.INTERNAL, details: err.message }),
        );
      },
    });
  }
  let bound = 0;
  return {
    async start() {
      const host = o.listen.includes(':') ? `[${o.listen}]` : o.listen;
      bound = await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${host}:${o.port}`, ServerCredentials.createInsecure(), (err, port) =>
          err
            ? reject(
                new CollectorError(
                  'SPROUT_ERR_COLLECTOR_LISTEN',
                  `cannot listen for gRPC on ${o.listen}:${o.port}: ${err.message}`,
                  'opentelemetry.grpc_port',
                ),
              )
            : resolve(port),
        ),
      );
    },
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
    port: () => bound,
  };
}
