import { fileURLToPath } from 'node:url';

/** A request that shows a template's function working, printed as a curl line after `sprout init`. */
export interface TryRequest {
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One `sprout init --template`: its files live in `packages/cli/templates/<name>/`. */
export interface Template {
  summary: string;
  /** What the function is called in function.yaml (`FUNCTION_TARGET`) and its signature. */
  target: string;
  signature: 'http' | 'cloudevent' | 'openfunction';
  try: TryRequest;
}

const json = { 'content-type': 'application/json' };

export const TEMPLATES = {
  http: {
    summary: 'HTTP function in JavaScript',
    target: 'hello',
    signature: 'http',
    try: { path: '/?name=you' },
  },
  typescript: {
    summary: 'HTTP function in TypeScript, answering JSON (no build step)',
    target: 'hello',
    signature: 'http',
    try: { path: '/?name=you' },
  },
  cloudevent: {
    summary: 'CloudEvent function',
    target: 'onEvent',
    signature: 'cloudevent',
    try: {
      path: '/',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': '1',
        'ce-source': '/cli',
        'ce-type': 'com.example.greet',
        ...json,
      },
      body: '{"name":"you"}',
    },
  },
  openfunction: {
    summary: 'OpenFunction (ctx, data) function: JSON in, the return value out',
    target: 'handler',
    signature: 'openfunction',
    try: { path: '/', headers: json, body: '{"name":"you"}' },
  },
  async: {
    summary: 'OpenFunction async-style function: each event in, its result sent to an output (bindings.http)',
    target: 'handler',
    signature: 'openfunction',
    try: { path: '/', headers: json, body: '{"id":"o1","total":3}' },
  },
  state: {
    summary: 'OpenFunction function using ctx.state on an embedded SQLite store (state.sqlite)',
    target: 'visit',
    signature: 'openfunction',
    try: { path: '/', headers: json, body: '{"name":"you"}' },
  },
} as const satisfies Record<string, Template>;

export type TemplateName = keyof typeof TEMPLATES;

export const isTemplateName = (s: string): s is TemplateName => Object.hasOwn(TEMPLATES, s);

/** The folder a template's files are copied from (the same from src/ and dist/). */
export const templateDir = (name: TemplateName): string =>
  fileURLToPath(new URL(`../../templates/${name}/`, import.meta.url));

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The curl line that tries the function on `base` (e.g. `localhost:8080`). */
export function curlLine(req: TryRequest, base: string): string {
  const words = ['curl', shellQuote(`${base}${req.path}`)];
  for (const [k, v] of Object.entries(req.headers ?? {})) words.push('-H', shellQuote(`${k}: ${v}`));
  if (req.body !== undefined) words.push('-d', shellQuote(req.body));
  return words.join(' ');
}
