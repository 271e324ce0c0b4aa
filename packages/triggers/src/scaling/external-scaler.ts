import { fileURLToPath } from 'node:url';
import {
  loadPackageDefinition,
  Server,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createLogger, type Logger } from '@sprout/observe';
import { isTriggersError, TriggersError } from '../errors.js';
import { readingOf, readTrigger, type LagTrigger } from './metric.js';
import { MqttTopicWatch, type BrokerTls } from './mqtt-watch.js';
import {
  GrpcListener,
  grpcServerOptions,
  resolveGrpcLimits,
  type GrpcLimits,
  type GrpcTls,
} from './grpc-listener.js';

/** KEDA's external scaler contract, vendored (proto/README.md): loaded from the package, src or dist alike. */
const PROTO = fileURLToPath(new URL('../../proto/externalscaler.proto', import.meta.url));

interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

export interface MqttScalerOptions {
  /** The broker when a trigger's metadata has no `url` (Dapr's forms: tcp://, mqtt://, ssl://, mqtts://). */
  url?: string;
  /** The window whose arrivals are the backlog (default 30 s, KEDA's default polling interval). */
  windowMs?: number;
  /** Topics watched at most (default 100); a request for one more is RESOURCE_EXHAUSTED. */
  maxTopics?: number;
  /** How often a StreamIsActive call re-reads the topic (default 1 s); it sends only changes. */
  streamIntervalMs?: number;
  /** Connections, message size and time limits (`GRPC_LIMIT_DEFAULTS`: 64 connections, 64 KiB, …). */
  limits?: GrpcLimits;
  /** TLS (KEDA's `enableTLS`), and with `clientCa` client certificates required (`tlsClientCert`). */
  tls?: GrpcTls;
  /** TLS to the broker (an ssl:// or mqtts:// url): its CA and a client certificate, PEM, as Dapr's MQTT metadata. */
  brokerTls?: BrokerTls;
  logger?: Logger;
}

/**
 * KEDA's external scaler (gRPC `externalscaler.ExternalScaler`) for Sprout's `mqtt` trigger, which KEDA
 * has no scaler of its own for: a cluster renders the trigger as `type: external` with
 * `scalerAddress` pointing here. Each call's `scalerMetadata` is the trigger's metadata, read as the
 * local scaler reads it (`readTrigger`: `topic`, `targetValue` 10, `activationTargetValue` 0, plus
 * `url`); the value is the topic's backlog as an `MqttTopicWatch` sees it, and activity and the
 * replicas asked follow `readingOf`, as in `sprout dev`.
 *
 * @example
 * const scaler = await MqttExternalScaler.listen({ url: 'mqtt://127.0.0.1:1883' }, 9090);
 * // KEDA: triggers: [{ type: external, metadata: { scalerAddress: 'host:9090', topic: orders } }]
 * await scaler.close();
 */
export class MqttExternalScaler {
  private readonly watches = new Map<string, Promise<MqttTopicWatch>>();
  private readonly streams = new Set<ServerWritableStream<ScaledObjectRef, unknown>>();
  private readonly log: Logger;
  private closed = false;
  private listener!: GrpcListener;

  private constructor(
    private readonly o: MqttScalerOptions,
    private readonly server: Server,
    private readonly limits: Required<GrpcLimits>,
    readonly host: string,
  ) {
    this.log = o.logger ?? createLogger({ name: 'mqtt-scaler' });
  }

  /**
   * Serves on `host` (default 127.0.0.1) and `port` (0 picks one), plaintext (KEDA's default)
   * unless `o.tls` is given, within `o.limits`.
   */
  static async listen(o: MqttScalerOptions, port = 0, host = '127.0.0.1'): Promise<MqttExternalScaler> {
    const pkg = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
    const service = (
      loadPackageDefinition(pkg).externalscaler as unknown as {
        ExternalScaler: { service: ServiceDefinition };
      }
    ).ExternalScaler.service;
    const limits = resolveGrpcLimits(o.limits);
    const server = new Server(grpcServerOptions(limits));
    const ref: { self?: MqttExternalScaler } = {};
    server.addService(service, {
      IsActive: (call: ServerUnaryCall<ScaledObjectRef, unknown>, done: sendUnaryData<unknown>) =>
        void ref.self!.unary(call, call.request, done, (r) => ({ result: r.active })),
      GetMetricSpec: (call: ServerUnaryCall<ScaledObjectRef, unknown>, done: sendUnaryData<unknown>) =>
        void ref.self!.unary(call, call.request, done, (r, t) => ({
          metricSpecs: [
            { metricName: metricName(t), targetSize: Math.ceil(t.target), targetSizeFloat: t.target },
          ],
        })),
      GetMetrics: (
        call: ServerUnaryCall<{ scaledObjectRef: ScaledObjectRef; metricName: string }, unknown>,
        done: sendUnaryData<unknown>,
      ) =>
        void ref.self!.unary(call, call.request.scaledObjectRef ?? {}, done, (r, t) => ({
          metricValues: [
            { metricName: metricName(t), metricValue: Math.round(r.value), metricValueFloat: r.value },
          ],
        })),
      StreamIsActive: (call: ServerWritableStream<ScaledObjectRef, unknown>) => void ref.self!.stream(call),
    });
    const self = (ref.self = new MqttExternalScaler(o, server, limits, host));
    self.listener = await GrpcListener.listen(server, {
      host,
      port,
      limits,
      what: 'the MQTT scaler',
      ...(o.tls ? { tls: o.tls } : {}),
    });
    return self;
  }

  /** The port it listens on. */
  get port(): number {
    return this.listener.port;
  }

  /** `host:port`, what a trigger's `scalerAddress` names. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.streams) s.end();
    this.server.forceShutdown();
    await this.listener?.close();
    const watches = await Promise.allSettled([...this.watches.values()]);
    await Promise.allSettled(watches.map((w) => (w.status === 'fulfilled' ? w.value.close() : undefined)));
  }

  /** The trigger a call's metadata describes and its reading now. */
  private async read(ref: ScaledObjectRef): Promise<{ trigger: LagTrigger; value: number; active: boolean }> {
    const metadata = { ...(ref.scalerMetadata ?? {}) };
    const trigger = readTrigger({ type: 'mqtt', metadata }, 'scalerMetadata');
    const url = metadata.url ?? this.o.url;
    if (!url)
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
        'scalerMetadata.url: the trigger names no broker and the scaler was started without --url',
        { field: 'scalerMetadata.url' },
      );
    const watch = await this.watch(url, trigger.source);
    const reading = readingOf(trigger, { lag: watch.backlog() }, new Date());
    return { trigger, value: reading.value, active: reading.active };
  }

  private watch(url: string, topic: string): Promise<MqttTopicWatch> {
    const key = `${url} ${topic}`;
    let w = this.watches.get(key);
    if (!w) {
      if (this.watches.size >= (this.o.maxTopics ?? 100))
        return Promise.reject(
          new TriggersError(
            'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
            `the scaler watches ${this.watches.size} topics already, its limit; start another scaler for more`,
          ),
        );
      w = MqttTopicWatch.open(url, topic, this.o.windowMs ?? 30_000, this.o.brokerTls);
      // A broker that could not be reached is tried again on the next call.
      w.catch(() => this.watches.delete(key));
      this.watches.set(key, w);
    }
    return w;
  }

  private async unary<T>(
    call: { getPeer(): string },
    ref: ScaledObjectRef,
    done: sendUnaryData<unknown>,
    answer: (r: { value: number; active: boolean }, t: LagTrigger) => T,
  ): Promise<void> {
    const peer = call.getPeer();
    this.listener.callStarted(peer);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(
              new Error(`no answer within ${this.limits.callTimeoutMs} ms (the broker is slow)`),
              {
                deadline: true,
              },
            ),
          ),
        this.limits.callTimeoutMs,
      );
    });
    try {
      const r = await Promise.race([this.read(ref), late]);
      done(null, answer(r, r.trigger));
    } catch (err) {
      done(this.grpcError(err, ref));
    } finally {
      clearTimeout(timer);
      this.listener.callEnded(peer);
    }
  }

  private async stream(call: ServerWritableStream<ScaledObjectRef, unknown>): Promise<void> {
    this.streams.add(call);
    const peer = call.getPeer();
    this.listener.callStarted(peer);
    // Ended cleanly (OK, which KEDA reads as EOF and reopens at once) after streamMaxMs.
    const until = Date.now() + this.limits.streamMaxMs;
    let last: boolean | undefined;
    let stopped = false;
    const stop = () => {
      if (!stopped) this.listener.callEnded(peer);
      stopped = true;
      this.streams.delete(call);
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
    while (!stopped && !this.closed && Date.now() < until) {
      try {
        const { active } = await this.read(call.request);
        if (active !== last) call.write({ result: (last = active) });
      } catch (err) {
        call.destroy(Object.assign(new Error((err as Error).message), this.grpcError(err, call.request)));
        return stop();
      }
      const wait = Math.min(this.o.streamIntervalMs ?? 1000, Math.max(0, until - Date.now()));
      await new Promise((r) => setTimeout(r, wait));
    }
    if (!stopped) call.end();
    stop();
  }

  private grpcError(err: unknown, ref: ScaledObjectRef): { code: status; details: string } {
    const invalid =
      isTriggersError(err, 'SPROUT_ERR_TRIGGERS_SCALER_INVALID') ||
      isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID');
    if (!invalid)
      this.log.warn(
        { scaledObject: `${ref.namespace}/${ref.name}`, err: (err as Error).message },
        'mqtt scaler',
      );
    const deadline = (err as { deadline?: boolean }).deadline === true;
    return {
      code: invalid ? status.INVALID_ARGUMENT : deadline ? status.DEADLINE_EXCEEDED : status.UNAVAILABLE,
      details: (err as Error).message,
    };
  }
}

/** The metric's name for KEDA (it prefixes its own `s<index>-`): the topic, made a metric name. */
function metricName(t: LagTrigger): string {
  return `mqtt-${t.source.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'topic'}`;
}
