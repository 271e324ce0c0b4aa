/**
 * The platform API's answers as the console reads them (packages/platform/openapi.yaml). Each
 * `*_KEYS` table lists an interface's properties, checked by TypeScript to be exactly its keys and
 * by test/openapi.test.ts to be exactly the schema's properties, so the two cannot drift apart.
 */

export interface TriggerCounts {
  lag?: number;
  delivered: number;
  failed: number;
  retried: number;
  deadLettered: number;
  dropped: number;
  requeued: number;
  inFlight: number;
  /** Times the broker connection came back. */
  reconnects?: number;
}

export interface Instance {
  id: string;
  function: string;
  state: 'starting' | 'ready' | 'stopping' | 'stopped' | 'crashed' | 'failed';
  pid?: number;
  host: string;
  port: number;
  startedAt: string;
  readyAt?: string;
  exitCode?: number | null;
  lastError?: string;
}

interface FunctionRoute {
  hosts: string[];
  pathPrefix: string;
  headers?: Record<string, string>;
}

interface FunctionScaling {
  minReplicas: number;
  maxReplicas: number;
  metric: 'concurrency' | 'requestRate' | 'both';
  targetConcurrency: number;
  targetRate: number;
  rateWindowMs: number;
  rateGranularityMs: number;
  scaledownPeriodMs: number;
}

interface FunctionAddress {
  status: 'allocated' | 'pending';
  addresses: string[];
  pool?: string;
  reason?: string;
  message?: string;
}

export interface FunctionView {
  name: string;
  namespace?: string;
  source: string;
  file?: string;
  engine: 'keda' | 'knative';
  routes: FunctionRoute[];
  scaling: FunctionScaling;
  desiredReplicas: number;
  readyReplicas: number;
  restarts: number;
  lastError?: string;
  lastErrorCode?: string;
  instances: Instance[];
  address?: FunctionAddress;
  triggers?: Record<string, TriggerCounts>;
}

export interface Problem {
  code: string;
  message: string;
}

export interface FunctionList {
  functions: FunctionView[];
  problems: Problem[];
}

export interface FunctionSpec {
  function: string;
  file?: string;
  yaml?: string;
}

export interface LogLine {
  time: string;
  instance: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface LogLines {
  function: string;
  lines: LogLine[];
}

export type EventType =
  | 'function.registered'
  | 'function.failed'
  | 'function.unregistered'
  | 'instance.started'
  | 'instance.ready'
  | 'instance.stopping'
  | 'instance.stopped'
  | 'instance.crashed'
  | 'instance.failed'
  | 'cold-start'
  | 'scale'
  | 'address.allocated'
  | 'address.pending'
  | 'address.released'
  | 'pool.exhausted'
  | 'collector.crashed'
  | 'collector.restarted'
  | 'triggers'
  | 'build.started'
  | 'build.phase'
  | 'build.finished'
  | 'build.failed';

export interface PlatformEvent {
  id: number;
  type: EventType;
  time: string;
  function?: string;
  instance?: string;
  code?: string;
  error?: string;
  reason?: string;
  source?: 'gateway' | 'triggers' | 'api';
  triggers?: Record<string, TriggerCounts>;
  path?: string;
  from?: number;
  to?: number;
  durationMs?: number;
  namespace?: string;
  addresses?: string[];
  pool?: string;
  standby?: boolean;
  exitCode?: number | null;
  signal?: string | null;
  restartInMs?: number;
  attempt?: number;
  pid?: number;
  droppedRecords?: number;
}

export interface EipPool {
  name: string;
  family: 4 | 6;
  address: string;
  protocol: 'bgp' | 'layer2' | 'vip' | 'local';
  isDefault: boolean;
  disabled: boolean;
  priority: number;
  size: number;
  used: number;
  free: number;
  namespaces: string[];
  namespaceSelector?: Record<string, string>;
  interface?: string;
}

interface EipPort {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface EipRequest {
  namespace: string;
  name: string;
  pool?: string;
  ips?: string[];
  sharingKey?: string;
  ports?: EipPort[];
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  ipFamilies?: ('IPv4' | 'IPv6')[];
}

export interface EipService {
  key: string;
  namespace: string;
  name: string;
  request: EipRequest;
  status: 'allocated' | 'pending';
  addresses: { ip: string; family: 4 | 6; pool: string; sharingKey?: string; ports: EipPort[] }[];
  condition?: { reason: string; message: string };
}

export interface EipEvent {
  id: number;
  at: string;
  type: 'exhausted' | 'pending' | 'drained';
  pool?: string;
  message: string;
}

/** Who the console is signed in as (`GET /v1/auth/session`). */
export interface Session {
  user: string;
  via: 'token' | 'api-token' | 'session';
}

export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: string;
}

/** A source-to-image build under `sprout dev` (`/v1/builds`). */
export interface Build {
  id: string;
  function: string;
  source: string;
  tag: string;
  output: 'store' | 'oci-layout' | 'docker-archive';
  push: boolean;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  phase?: string;
  phases: { name: string; startedAt: string }[];
  startedAt: string;
  finishedAt?: string;
  digest?: string;
  path?: string;
  error?: { code: string; message: string };
}

/** One line of a build's log (`event: log` of `/v1/builds/{id}/logs`). */
export interface BuildLogLine {
  n: number;
  time: string;
  phase?: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

type Keys<T> = Record<keyof T, true>;

/** Property tables of the schemas in openapi.yaml (see the note at the top). */
export const SCHEMA_KEYS = {
  Build: {
    id: true,
    function: true,
    source: true,
    tag: true,
    output: true,
    push: true,
    status: true,
    phase: true,
    phases: true,
    startedAt: true,
    finishedAt: true,
    digest: true,
    path: true,
    error: true,
  } satisfies Keys<Build>,
  BuildLogLine: { n: true, time: true, phase: true, stream: true, text: true } satisfies Keys<BuildLogLine>,
  Function: {
    name: true,
    namespace: true,
    source: true,
    file: true,
    engine: true,
    routes: true,
    scaling: true,
    desiredReplicas: true,
    readyReplicas: true,
    restarts: true,
    lastError: true,
    lastErrorCode: true,
    instances: true,
    address: true,
    triggers: true,
  } satisfies Keys<FunctionView>,
  TriggerCounts: {
    lag: true,
    delivered: true,
    failed: true,
    retried: true,
    deadLettered: true,
    dropped: true,
    requeued: true,
    inFlight: true,
    reconnects: true,
  } satisfies Keys<TriggerCounts>,
  Instance: {
    id: true,
    function: true,
    state: true,
    pid: true,
    host: true,
    port: true,
    startedAt: true,
    readyAt: true,
    exitCode: true,
    lastError: true,
  } satisfies Keys<Instance>,
  FunctionList: { functions: true, problems: true } satisfies Keys<FunctionList>,
  Problem: { code: true, message: true } satisfies Keys<Problem>,
  LogLine: { time: true, instance: true, stream: true, line: true } satisfies Keys<LogLine>,
  LogLines: { function: true, lines: true } satisfies Keys<LogLines>,
  Event: {
    id: true,
    type: true,
    time: true,
    function: true,
    instance: true,
    code: true,
    error: true,
    reason: true,
    source: true,
    triggers: true,
    path: true,
    from: true,
    to: true,
    durationMs: true,
    namespace: true,
    addresses: true,
    pool: true,
    standby: true,
    exitCode: true,
    signal: true,
    restartInMs: true,
    attempt: true,
    pid: true,
    droppedRecords: true,
  } satisfies Keys<PlatformEvent>,
  EipPool: {
    name: true,
    family: true,
    address: true,
    protocol: true,
    isDefault: true,
    disabled: true,
    priority: true,
    size: true,
    used: true,
    free: true,
    namespaces: true,
    namespaceSelector: true,
    interface: true,
  } satisfies Keys<EipPool>,
  EipRequest: {
    namespace: true,
    name: true,
    pool: true,
    ips: true,
    sharingKey: true,
    ports: true,
    ipFamilyPolicy: true,
    ipFamilies: true,
  } satisfies Keys<EipRequest>,
  EipService: {
    key: true,
    namespace: true,
    name: true,
    request: true,
    status: true,
    addresses: true,
    condition: true,
  } satisfies Keys<EipService>,
} as const;

/** The event types of the schema's enum, checked the same way. */
export const EVENT_TYPES = [
  'function.registered',
  'function.failed',
  'function.unregistered',
  'instance.started',
  'instance.ready',
  'instance.stopping',
  'instance.stopped',
  'instance.crashed',
  'instance.failed',
  'cold-start',
  'scale',
  'address.allocated',
  'address.pending',
  'address.released',
  'pool.exhausted',
  'collector.crashed',
  'collector.restarted',
  'triggers',
  'build.started',
  'build.phase',
  'build.finished',
  'build.failed',
] as const satisfies readonly EventType[];
