import { api, request } from './client.js';
import type { Answers, Schemas } from './openapi.gen.js';

/**
 * Every API route the console calls, by operationId, as `METHOD /openapi/path/{param}`;
 * test/openapi.test.ts checks each is that operation of packages/platform/openapi.yaml. The answers'
 * types below are the operations' (`Answers`, generated from the same document).
 */
export const ROUTES = {
  listFunctions: 'GET /v1/functions',
  getFunction: 'GET /v1/functions/{name}',
  functionSpec: 'GET /v1/functions/{name}/spec',
  functionLogs: 'GET /v1/functions/{name}/logs',
  invokeFunction: 'GET /v1/functions/{name}/invoke/{path}',
  events: 'GET /v1/events',
  metrics: 'GET /metrics',
  listEipPools: 'GET /v1/eip/pools',
  listEipAllocations: 'GET /v1/eip/allocations',
  eipEvents: 'GET /v1/eip/events',
  login: 'POST /v1/auth/login',
  logout: 'POST /v1/auth/logout',
  session: 'GET /v1/auth/session',
  listTokens: 'GET /v1/auth/tokens',
  createToken: 'POST /v1/auth/tokens',
  revokeToken: 'DELETE /v1/auth/tokens/{id}',
  listBuilds: 'GET /v1/builds',
  startBuild: 'POST /v1/builds',
  cancelBuild: 'DELETE /v1/builds/{id}',
  buildLogs: 'GET /v1/builds/{id}/logs',
} as const;

const seg = encodeURIComponent;

export const listFunctions = () => api.get<Answers['listFunctions']>('/v1/functions');
export const getFunction = (name: string) => api.get<Answers['getFunction']>(`/v1/functions/${seg(name)}`);
export const functionSpec = (name: string) =>
  api.get<Answers['functionSpec']>(`/v1/functions/${seg(name)}/spec`);
export const listEipPools = () => api.get<Answers['listEipPools']>('/v1/eip/pools');
export const listEipAllocations = () => api.get<Answers['listEipAllocations']>('/v1/eip/allocations');
export const eipEvents = () => api.get<Answers['eipEvents']>('/v1/eip/events?limit=50');
export const login = (password: string) =>
  api.post<Answers['login']>('/v1/auth/login', { user: 'admin', password });
export const loginWithLink = (loginToken: string) =>
  api.post<Answers['login']>('/v1/auth/login', { loginToken });
export const logout = () => api.post<void>('/v1/auth/logout');
export const session = () => api.get<Answers['session']>('/v1/auth/session');
export const listTokens = () => api.get<Answers['listTokens']>('/v1/auth/tokens');
export const createToken = (name: string) => api.post<Answers['createToken']>('/v1/auth/tokens', { name });
export const revokeToken = (id: string) => api.del(`/v1/auth/tokens/${seg(id)}`);
export const listBuilds = () => api.get<Answers['listBuilds']>('/v1/builds');
export const startBuild = (body: Schemas['BuildRequest'] & { function: string }) =>
  api.post<Answers['startBuild']>('/v1/builds', body);
export const cancelBuild = (id: string) => api.del<Answers['cancelBuild']>(`/v1/builds/${seg(id)}`);
/** The path of a build's log stream (server-sent events: phase, log, end). */
export const buildLogsPath = (id: string) => `/v1/builds/${seg(id)}/logs`;

/** The gateway's Prometheus text (`/metrics`), read for request rates and cold starts. */
export async function metricsText(): Promise<string> {
  const res = await fetch('/metrics', { credentials: 'same-origin' });
  return res.ok ? res.text() : '';
}

export interface InvokeResult {
  status: number;
  headers: [string, string][];
  body: string;
  ms: number;
}

/** Sends a request to a function through the platform API (`/v1/functions/{name}/invoke/...`). */
export async function invokeFunction(
  name: string,
  o: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<InvokeResult> {
  const path = o.path.replace(/^\/+/, '');
  const started = performance.now();
  const res = await request.raw(o.method, `/v1/functions/${seg(name)}/invoke/${path}`, o.headers, o.body);
  const body = await res.text();
  return { status: res.status, headers: [...res.headers.entries()], body, ms: performance.now() - started };
}
