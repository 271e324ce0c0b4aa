import { createHash } from 'node:crypto';
import { KubeError } from './errors.js';
import type { FunctionManifest } from './function.js';
import type { KubeObject } from './http-scaling.js';
import { dnsLabel } from './names.js';

export const SHIPWRIGHT_API_VERSION = 'shipwright.io/v1beta1';
/** The Shipwright ClusterBuildStrategy that runs Cloud Native Buildpacks (the one Sprout's lifecycle follows). */
export const BUILDPACKS_STRATEGY = 'buildpacks-v3';

/** Says `file:line` for a field path of the function.yaml (from @sprout/spec); without one, the path alone. */
export type FieldLocator = (path: (string | number)[]) => string;

export interface ShipwrightInput {
  /** The rendered Function: its name, namespace, image, `spec.build` and `spec.imageCredentials`. */
  fn: FunctionManifest;
  /** Where a field of the function.yaml is, for refusals. */
  at?: FieldLocator;
  /** Push secret for the output image; default `spec.imageCredentials.name`. */
  pushSecret?: string;
  /** True when the image came from neither `spec.image` nor a flag (Shipwright needs one to push to). */
  defaultImage?: boolean;
}

interface SrcRepo {
  url?: string;
  revision?: string;
  sourceSubPath?: string;
  credentials?: { name?: string };
  bundleContainer?: { image?: string };
}

interface ShipwrightOptions {
  strategy?: { name?: string; kind?: string };
  params?: Record<string, unknown>[];
  timeout?: string;
}

interface BuildSpecDoc {
  builder?: string;
  dockerfile?: string;
  env?: Record<string, string>;
  srcRepo?: SrcRepo;
  shipwright?: ShipwrightOptions;
  timeout?: string;
  successfulBuildsHistoryLimit?: number;
  failedBuildsHistoryLimit?: number;
}

const GIT_URL = /^(?:(?:https?|ssh|git):\/\/[^\s/]+\/\S+|[\w.-]+@[\w.-]+:\S+)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_PARAM = /^(?:BUILDER_IMAGE|DOCKERFILE|CONTEXT_DIR|shp-.*)$/;

/** The Shipwright objects for a Function with `spec.build`: a Build and the BuildRun that runs it. */
export interface ShipwrightObjects {
  build: KubeObject;
  buildRun: KubeObject;
  /** What the cluster will do differently from the function.yaml (e.g. `builder` is the strategy's). */
  notes: string[];
}

/**
 * Renders Shipwright `Build` and `BuildRun` (shipwright.io/v1beta1) for a Function's OpenFunction
 * `spec.build`: the `buildpacks-v3` ClusterBuildStrategy (or `spec.build.shipwright.strategy`), the
 * source from `srcRepo` (git url, revision, `sourceSubPath` as contextDir; `bundleContainer` as an
 * OCI artifact; none: a Local source uploaded with `shp build upload`), the Function's image as the
 * output with its push secret, and `build.env` as the strategy's environment. A shape the strategy
 * cannot honour is refused with `SPROUT_ERR_KUBE_RENDER_UNSUPPORTED` naming the file, line and field.
 *
 * @example
 * const { build, buildRun } = renderShipwright({ fn: renderFunction({ name: 'hello', image: 'r.example/hello:1', base }) });
 */
export function renderShipwright(input: ShipwrightInput): ShipwrightObjects {
  const { fn } = input;
  const spec = (fn.spec.build ?? {}) as BuildSpecDoc;
  const where = (path: (string | number)[]) => (input.at ? input.at(path) : path.join('.'));
  const refuse = (path: (string | number)[], why: string): never => {
    throw new KubeError(
      'SPROUT_ERR_KUBE_RENDER_UNSUPPORTED',
      `${where(path)}: field "${path.join('.')}": ${why}`,
      {
        field: path.join('.'),
      },
    );
  };
  const b = ['spec', 'build'];
  const strategy = {
    name: spec.shipwright?.strategy?.name ?? BUILDPACKS_STRATEGY,
    kind: spec.shipwright?.strategy?.kind ?? 'ClusterBuildStrategy',
  };
  if (strategy.kind !== 'ClusterBuildStrategy' && strategy.kind !== 'BuildStrategy')
    refuse([...b, 'shipwright', 'strategy', 'kind'], 'must be ClusterBuildStrategy or BuildStrategy');
  if (spec.dockerfile && strategy.name === BUILDPACKS_STRATEGY)
    refuse(
      [...b, 'dockerfile'],
      `the ${BUILDPACKS_STRATEGY} strategy builds without a Dockerfile; remove it, or name a Dockerfile strategy in spec.build.shipwright.strategy`,
    );
  if (input.defaultImage)
    refuse(
      ['spec', 'image'],
      'Shipwright pushes the built image: set spec.image (or --image) to a registry reference',
    );

  const source = sourceOf(spec.srcRepo, fn.metadata.name, (field, why) =>
    refuse([...b, 'srcRepo', field], why),
  );
  const env = Object.entries(spec.env ?? {}).map(([name, value]) => {
    if (!ENV_NAME.test(name)) refuse([...b, 'env', name], 'not an environment variable name');
    return { name, value: String(value) };
  });
  const params = spec.shipwright?.params ?? [];
  params.forEach((p, i) => {
    if (typeof p.name === 'string' && RESERVED_PARAM.test(p.name))
      refuse([...b, 'shipwright', 'params', i, 'name'], `${p.name} is reserved by Shipwright`);
  });

  const pushSecret =
    input.pushSecret ?? (fn.spec.imageCredentials as { name?: string } | undefined)?.name ?? undefined;
  const output: Record<string, unknown> = { image: fn.spec.image };
  if (pushSecret) output.pushSecret = pushSecret;
  const buildSpec: Record<string, unknown> = { source, strategy, output };
  if (env.length) buildSpec.env = env;
  if (params.length) buildSpec.paramValues = params;
  const timeout = spec.shipwright?.timeout ?? spec.timeout;
  if (timeout) buildSpec.timeout = timeout;
  const retention: Record<string, number> = {};
  if (spec.successfulBuildsHistoryLimit !== undefined)
    retention.succeededLimit = spec.successfulBuildsHistoryLimit;
  if (spec.failedBuildsHistoryLimit !== undefined) retention.failedLimit = spec.failedBuildsHistoryLimit;
  if (Object.keys(retention).length) buildSpec.retention = retention;

  const name = dnsLabel(`${fn.metadata.name}-build`);
  const metadata = (n: string) => ({
    name: n,
    ...(fn.metadata.namespace ? { namespace: fn.metadata.namespace } : {}),
    labels: { 'app.kubernetes.io/managed-by': 'sprout', 'app.kubernetes.io/name': fn.metadata.name },
  });
  // The run is named after what it builds: applying the same spec again is a no-op, a changed one a new run.
  const digest = createHash('sha256').update(JSON.stringify(buildSpec)).digest('hex').slice(0, 10);
  const notes: string[] = [];
  if (spec.builder)
    notes.push(
      `${where([...b, 'builder'])}: builder ${spec.builder} is kept in the Function; the Shipwright Build uses the ${strategy.name} strategy's builder image`,
    );
  if (source.type === 'Local')
    notes.push(
      `spec.build has no srcRepo.url: the Build's source is Local; upload the folder with 'shp build upload ${name}'`,
    );
  return {
    build: { apiVersion: SHIPWRIGHT_API_VERSION, kind: 'Build', metadata: metadata(name), spec: buildSpec },
    buildRun: {
      apiVersion: SHIPWRIGHT_API_VERSION,
      kind: 'BuildRun',
      metadata: metadata(dnsLabel(`${name}-${digest}`)),
      spec: { build: { name } },
    },
    notes,
  };
}

function sourceOf(
  repo: SrcRepo | undefined,
  fnName: string,
  refuse: (field: string, why: string) => never,
): Record<string, unknown> {
  const sub = repo?.sourceSubPath;
  if (sub !== undefined && (sub.startsWith('/') || sub.split(/[\\/]/).includes('..')))
    refuse('sourceSubPath', 'must be a relative path inside the repository (no leading / and no ..)');
  const context = sub ? { contextDir: sub.replace(/^\.\/+/, '') } : {};
  if (repo?.url && repo.bundleContainer)
    refuse('bundleContainer', 'give either url or bundleContainer, not both');
  if (repo?.url) {
    if (!GIT_URL.test(repo.url))
      refuse('url', `${repo.url} is not a git URL (https://, ssh://, git:// or user@host:path)`);
    const git: Record<string, unknown> = { url: repo.url };
    if (repo.revision) git.revision = repo.revision;
    if (repo.credentials?.name) git.cloneSecret = repo.credentials.name;
    return { type: 'Git', git, ...context };
  }
  if (repo?.revision) refuse('revision', 'a revision needs srcRepo.url');
  if (repo?.bundleContainer) {
    if (!repo.bundleContainer.image) refuse('bundleContainer', 'needs an image');
    const oci: Record<string, unknown> = { image: repo.bundleContainer.image };
    if (repo.credentials?.name) oci.pullSecret = repo.credentials.name;
    return { type: 'OCI', ociArtifact: oci, ...context };
  }
  return { type: 'Local', local: { name: dnsLabel(`${fnName}-source`), timeout: '10m' }, ...context };
}
