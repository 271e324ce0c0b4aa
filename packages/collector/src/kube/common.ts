import type { z } from 'zod';
import { CollectorError } from '../errors.js';

/** What every Fluent Operator renderer here shares: the API version, names, labels, defaults. */
export type Obj = Record<string, unknown>;

export const API = 'fluentbit.fluent.io/v1alpha2';

/** The label every object of one rendered pipeline carries; its ClusterFluentBitConfig selects by it. */
export const PIPELINE_LABEL = 'sprout.dev/pipeline';

/** A Kubernetes object name (DNS-1123 subdomain) made from an id such as `http.0`. */
export const dns = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253) || 'input';

/** Addresses that, inside a pod, mean the pod itself. */
export const isLoopback = (host: string) =>
  host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';

export const notRenderable = (message: string, field?: string) =>
  new CollectorError('SPROUT_ERR_COLLECTOR_NOT_RENDERABLE', message, field);

/** Each key's default in a plugin schema (keys without one are left out). */
export function defaultsOf(schema: z.ZodType): Obj {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  const out: Obj = {};
  for (const [k, s] of Object.entries(shape)) {
    const r = s.safeParse(undefined);
    if (r.success && r.data !== undefined) out[k] = r.data;
  }
  return out;
}

export const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Bytes → the CRDs' size pattern (`4M`, `512K`, `32000`). */
export function sizeOut(v: unknown): string | undefined {
  if (typeof v !== 'number') return undefined;
  const M = 1024 * 1024;
  if (v % M === 0) return `${v / M}M`;
  if (v % 1024 === 0) return `${v / 1024}K`;
  return String(v);
}

/** `KEY VALUE` (value may hold spaces) → [key, value], as fluent-bit reads such options. */
export function keyValue(s: string): [string, string] {
  const i = s.search(/\s/);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i).trim()];
}

/** Metadata of one object of the pipeline `pipeline`. */
export const meta = (name: string, pipeline: string) => ({
  name: dns(name),
  labels: { [PIPELINE_LABEL]: pipeline },
});
