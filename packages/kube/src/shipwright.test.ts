import { describe, expect, it } from 'vitest';
import { vendoredCrdsDir } from './crds.js';
import { renderFunction } from './function.js';
import { renderShipwright } from './shipwright.js';
import { createManifestValidator } from './validate.js';

const validator = createManifestValidator(vendoredCrdsDir());

const fnWith = (build: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  renderFunction({
    name: 'hello',
    image: '',
    base: {
      metadata: { name: 'hello', namespace: 'demo' },
      spec: { image: 'registry.example.com/team/hello:1', build, ...extra },
    },
  });

describe('renderShipwright: spec.build shapes', () => {
  const table: {
    shape: string;
    build: Record<string, unknown>;
    extra?: Record<string, unknown>;
    source: unknown;
    more?: Record<string, unknown>;
  }[] = [
    {
      shape: 'git url, revision, sourceSubPath, credentials',
      build: {
        builder: 'openfunction/builder-node:v2-18',
        env: { FUNC_NAME: 'hello', BP_NODE_RUN_SCRIPTS: '' },
        srcRepo: {
          url: 'https://github.com/OpenFunction/samples.git',
          revision: 'main',
          sourceSubPath: 'functions/knative/hello-world-node',
          credentials: { name: 'git-creds' },
        },
      },
      extra: { imageCredentials: { name: 'push-secret' } },
      source: {
        type: 'Git',
        git: {
          url: 'https://github.com/OpenFunction/samples.git',
          revision: 'main',
          cloneSecret: 'git-creds',
        },
        contextDir: 'functions/knative/hello-world-node',
      },
      more: {
        output: { image: 'registry.example.com/team/hello:1', pushSecret: 'push-secret' },
        env: [
          { name: 'FUNC_NAME', value: 'hello' },
          { name: 'BP_NODE_RUN_SCRIPTS', value: '' },
        ],
      },
    },
    {
      shape: 'scp-style git url, no revision',
      build: { srcRepo: { url: 'git@git.example.com:team/app.git' } },
      source: { type: 'Git', git: { url: 'git@git.example.com:team/app.git' } },
      more: { output: { image: 'registry.example.com/team/hello:1' } },
    },
    {
      shape: 'bundleContainer as an OCI artifact',
      build: {
        srcRepo: { bundleContainer: { image: 'registry.example.com/src/hello:1' }, sourceSubPath: 'app' },
      },
      source: { type: 'OCI', ociArtifact: { image: 'registry.example.com/src/hello:1' }, contextDir: 'app' },
    },
    {
      shape: 'no url: a Local source',
      build: { env: { A: '1' }, srcRepo: {} },
      source: { type: 'Local', local: { name: 'hello-source', timeout: '10m' } },
    },
    {
      shape: 'shipwright strategy, params, timeout and history limits',
      build: {
        srcRepo: { url: 'https://git.example.com/a.git' },
        shipwright: {
          strategy: { name: 'buildpacks-v3-heroku', kind: 'BuildStrategy' },
          params: [{ name: 'platform-api-version', value: '0.12' }],
          timeout: '15m',
        },
        successfulBuildsHistoryLimit: 2,
        failedBuildsHistoryLimit: 3,
      },
      source: { type: 'Git', git: { url: 'https://git.example.com/a.git' } },
      more: {
        strategy: { name: 'buildpacks-v3-heroku', kind: 'BuildStrategy' },
        paramValues: [{ name: 'platform-api-version', value: '0.12' }],
        timeout: '15m',
        retention: { succeededLimit: 2, failedLimit: 3 },
      },
    },
  ];

  it.each(table)(
    '$shape: Build and BuildRun valid against the Shipwright CRDs',
    ({ build, extra, source, more }) => {
      const fn = fnWith(build, extra);
      const out = renderShipwright({ fn });
      expect(validator.validate(out.build).issues).toEqual([]);
      expect(validator.validate(out.buildRun).issues).toEqual([]);
      expect(validator.validate(fn).issues).toEqual([]);
      expect(fn.spec.build).toEqual(build); // OpenFunction's spec.build stays in the Function
      expect(out.build).toMatchObject({
        apiVersion: 'shipwright.io/v1beta1',
        kind: 'Build',
        metadata: { name: 'hello-build', namespace: 'demo' },
        spec: { source, strategy: { name: 'buildpacks-v3', kind: 'ClusterBuildStrategy' }, ...more },
      });
      expect(out.buildRun).toMatchObject({
        kind: 'BuildRun',
        metadata: { namespace: 'demo' },
        spec: { build: { name: 'hello-build' } },
      });
    },
  );

  it('names the BuildRun after what it builds: same spec same name, changed spec a new run', () => {
    const a = renderShipwright({ fn: fnWith({ srcRepo: { url: 'https://git.example.com/a.git' } }) });
    const b = renderShipwright({ fn: fnWith({ srcRepo: { url: 'https://git.example.com/a.git' } }) });
    const c = renderShipwright({
      fn: fnWith({ srcRepo: { url: 'https://git.example.com/a.git', revision: 'v2' } }),
    });
    expect(a.buildRun.metadata.name).toBe(b.buildRun.metadata.name);
    expect(c.buildRun.metadata.name).not.toBe(a.buildRun.metadata.name);
    expect(a.buildRun.metadata.name).toMatch(/^hello-build-[0-9a-f]{10}$/);
  });

  it('notes a builder image (the strategy has its own) and a Local source', () => {
    const out = renderShipwright({ fn: fnWith({ builder: 'openfunction/builder-node:v2-18' }) });
    expect(out.notes.join('\n')).toMatch(
      /builder openfunction\/builder-node:v2-18 is kept.*\n.*shp build upload hello-build/,
    );
  });
});

describe('renderShipwright refusals', () => {
  const at = (path: (string | number)[]) => `fn/function.yaml:${path.length}`;
  const refusals: {
    why: string;
    build: Record<string, unknown>;
    field: string;
    message: RegExp;
    defaultImage?: boolean;
  }[] = [
    {
      why: 'a Dockerfile with buildpacks',
      build: { dockerfile: 'Dockerfile' },
      field: 'spec.build.dockerfile',
      message: /without a Dockerfile/,
    },
    {
      why: 'sourceSubPath leaving the repo',
      build: { srcRepo: { url: 'https://g.example/a.git', sourceSubPath: '../x' } },
      field: 'spec.build.srcRepo.sourceSubPath',
      message: /relative path/,
    },
    {
      why: 'absolute sourceSubPath',
      build: { srcRepo: { url: 'https://g.example/a.git', sourceSubPath: '/etc' } },
      field: 'spec.build.srcRepo.sourceSubPath',
      message: /relative path/,
    },
    {
      why: 'a URL that is not git',
      build: { srcRepo: { url: 'file:///srv/repo' } },
      field: 'spec.build.srcRepo.url',
      message: /not a git URL/,
    },
    {
      why: 'url and bundleContainer',
      build: { srcRepo: { url: 'https://g.example/a.git', bundleContainer: { image: 'r/x' } } },
      field: 'spec.build.srcRepo.bundleContainer',
      message: /either/,
    },
    {
      why: 'a revision without url',
      build: { srcRepo: { revision: 'main' } },
      field: 'spec.build.srcRepo.revision',
      message: /needs srcRepo.url/,
    },
    {
      why: 'a bad env name',
      build: { env: { 'A-B': '1' } },
      field: 'spec.build.env.A-B',
      message: /environment variable name/,
    },
    {
      why: 'a reserved param',
      build: { shipwright: { params: [{ name: 'DOCKERFILE', value: 'x' }] } },
      field: 'spec.build.shipwright.params.0.name',
      message: /reserved/,
    },
    {
      why: 'a strategy kind',
      build: { shipwright: { strategy: { name: 'x', kind: 'Pod' } } },
      field: 'spec.build.shipwright.strategy.kind',
      message: /ClusterBuildStrategy/,
    },
    {
      why: 'no image to push to',
      build: {},
      field: 'spec.image',
      message: /set spec.image/,
      defaultImage: true,
    },
  ];

  it.each(refusals)(
    'refuses $why with the file, line and field',
    ({ build, field, message, defaultImage }) => {
      let error: unknown;
      try {
        renderShipwright({ fn: fnWith(build), at, defaultImage: Boolean(defaultImage) });
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'SPROUT_ERR_KUBE_RENDER_UNSUPPORTED', field });
      const line = field.split('.').length;
      expect((error as Error).message).toMatch(
        new RegExp(`^fn/function.yaml:${line}: field "${field.replace(/\./g, '\\.')}": `),
      );
      expect((error as Error).message).toMatch(message);
    },
  );
});
