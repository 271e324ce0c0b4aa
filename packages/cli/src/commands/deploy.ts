import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import {
  createManifestValidator,
  parseFunctionYaml,
  renderFunction,
  renderHttpScaledObject,
  renderWorkload,
  usesKedaHttp,
  vendoredCrdsDir,
  type FunctionManifest,
} from '@sprout/kube';
import { defineCommand, UsageError } from '../command.js';

export default defineCommand({
  name: 'deploy',
  summary: 'Render Kubernetes manifests for a function folder',
  usage: 'sprout deploy --render [dir] [options]',
  details: `
Prints the OpenFunction Function (core.openfunction.io/v1beta2) for the folder: its function.yaml
when there is one, else one built from package.json and the flags. Apply it to a cluster running
OpenFunction: sprout deploy --render ./fn --image registry.example.com/fn:v1 | kubectl apply -f -

When the Function has an HTTP trigger on the keda engine (serving.triggers.http.engine: keda), KEDA's
HTTPScaledObject (http.keda.sh/v1alpha1) follows it, scaling on the route's hosts and path prefixes
with the sprout.dev/ annotations (scaling metric, rate window, timeouts). With --without-openfunction
the Function is replaced by a Deployment and a Service that run the image directly, for clusters
with KEDA's HTTP add-on but no OpenFunction.

Applying directly (without kubectl) is not built yet: --render is required.
`,
  options: {
    render: { type: 'boolean', description: 'Print the manifests to standard output' },
    image: {
      type: 'string',
      env: 'SPROUT_IMAGE',
      value: 'REF',
      description: 'Image the function runs as (default: function.yaml spec.image, else <name>:latest)',
    },
    namespace: { type: 'string', short: 'n', value: 'NS', description: 'Namespace to put in the manifests' },
    target: {
      type: 'string',
      env: 'FUNCTION_TARGET',
      value: 'NAME',
      description: 'FUNCTION_TARGET for the function container',
    },
    'signature-type': {
      type: 'string',
      env: 'FUNCTION_SIGNATURE_TYPE',
      value: 'TYPE',
      description: 'FUNCTION_SIGNATURE_TYPE for the function container',
    },
    'without-openfunction': {
      type: 'boolean',
      description: 'Render a Deployment and Service instead of the OpenFunction Function',
    },
    'validate-against': {
      type: 'string',
      env: 'SPROUT_CRDS_DIR',
      value: 'DIR',
      default: vendoredCrdsDir(),
      description:
        "Check the output against the CRD schemas in DIR before printing: by default the upstream CRDs shipped with @sprout/kube; '' skips the check",
    },
  },
  async run(opts, positionals, io) {
    if (!opts.render)
      throw new UsageError('only --render is available: sprout deploy --render [dir] | kubectl apply -f -');
    const dir = resolve(io.cwd, positionals[0] ?? '.');
    if (!existsSync(dir)) throw new UsageError(`${dir} does not exist`);
    let base: FunctionManifest | undefined;
    const yamlFile = ['function.yaml', 'function.yml'].map((f) => join(dir, f)).find((f) => existsSync(f));
    if (yamlFile) base = parseFunctionYaml(readFileSync(yamlFile, 'utf8'), yamlFile).manifest;
    let pkg: { name?: string; version?: string } = {};
    if (existsSync(join(dir, 'package.json'))) {
      try {
        pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
      } catch (err) {
        throw new UsageError(`${join(dir, 'package.json')} is not valid JSON: ${(err as Error).message}`);
      }
    }
    const manifest = renderFunction({
      name: pkg.name ?? basename(dir),
      ...(pkg.version ? { version: pkg.version } : {}),
      image: opts.image ?? '',
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.target ? { target: opts.target } : {}),
      ...(opts['signature-type'] ? { signatureType: opts['signature-type'] } : {}),
      ...(base ? { base } : {}),
    });
    const docs: object[] = opts['without-openfunction'] ? renderWorkload(manifest) : [manifest];
    // Without OpenFunction nobody turns serving.states into Dapr components: render them too.
    const states = (manifest.spec.serving as { states?: Record<string, { spec: unknown }> } | undefined)
      ?.states;
    if (opts['without-openfunction'] && states) {
      const { renderFunctionStates } = await import('@sprout/state');
      docs.push(
        ...renderFunctionStates(states, {
          ...(manifest.metadata.namespace ? { namespace: manifest.metadata.namespace } : {}),
          scopes: [manifest.metadata.name],
        }),
      );
    }
    if (usesKedaHttp(manifest)) docs.push(renderHttpScaledObject(manifest));
    if (opts['validate-against']) {
      const validator = createManifestValidator(opts['validate-against']);
      const known = new Set(validator.kinds());
      for (const doc of docs) {
        const { apiVersion, kind } = doc as { apiVersion: string; kind: string };
        if (known.has(`${apiVersion}/${kind}`)) validator.assertValid(doc);
      }
    }
    io.stdout.write(docs.map((d) => `---\n${stringify(d)}`).join(''));
    return 0;
  },
});
