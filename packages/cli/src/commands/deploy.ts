import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { functionFieldLocator, loadFunctionDir, loadResources } from '@sprout/spec';
import { stringify } from 'yaml';
import {
  createManifestValidator,
  isAsyncFunction,
  renderAsyncWorkload,
  renderFunction,
  renderHttpScaledObject,
  renderMqttScaler,
  renderResiliency,
  renderScaledObject,
  renderShipwright,
  renderSubscription,
  renderWorkload,
  usesKedaHttp,
  vendoredCrdsDir,
  withClusterScalers,
  type MqttScalerInput,
} from '@sprout/kube';
import { defineCommand, UsageError } from '../command.js';

/** Sprout's MQTT scaler to render, from --mqtt-scaler-image and its TLS Secrets. */
function mqttScaler(opts: {
  'mqtt-scaler-image'?: string;
  'mqtt-scaler-tls-secret'?: string;
  'mqtt-scaler-client-secret'?: string;
}): MqttScalerInput | undefined {
  const [image, secret, clientSecret] = [
    opts['mqtt-scaler-image'],
    opts['mqtt-scaler-tls-secret'],
    opts['mqtt-scaler-client-secret'],
  ];
  if (clientSecret && !secret)
    throw new UsageError('--mqtt-scaler-client-secret needs --mqtt-scaler-tls-secret');
  if (secret && !image) throw new UsageError('--mqtt-scaler-tls-secret needs --mqtt-scaler-image');
  if (!image) return undefined;
  return { image, ...(secret ? { tls: { secret, ...(clientSecret ? { clientSecret } : {}) } } : {}) };
}

export default defineCommand({
  name: 'deploy',
  summary: 'Render Kubernetes manifests for a function folder',
  usage: 'sprout deploy --render [dir] [options]',
  details: `
Prints the OpenFunction Function (core.openfunction.io/v1beta2) for the folder: its function.yaml
when there is one (read and checked exactly as 'sprout dev' reads it), else one named after the
folder, with package.json's version, and the flags. Apply it to a cluster running
OpenFunction: sprout deploy --render ./fn --image registry.example.com/fn:v1 | kubectl apply -f -

When the Function has an HTTP trigger on the keda engine (serving.triggers.http.engine: keda), KEDA's
HTTPScaledObject (http.keda.sh/v1alpha1) follows it, scaling on the route's hosts and path prefixes
with the sprout.dev/ annotations (scaling metric, rate window, timeouts). With --without-openfunction
the Function is replaced by a Deployment and a Service that run the image directly, for clusters
with KEDA's HTTP add-on but no OpenFunction.

An async function (serving.triggers.dapr inputs, KEDA triggers in scaleOptions.keda.triggers) renders
as its Function, which OpenFunction turns into the Dapr components and KEDA's ScaledObject. With
--without-openfunction it renders as a Deployment beside a Dapr sidecar, its Dapr Components, and
KEDA's ScaledObject (nats-jetstream, redis-streams, rabbitmq, cron; Sprout's mqtt scaler as KEDA's
external scaler: its scalerAddress, or with --mqtt-scaler-image a Deployment and Service running
'sprout triggers mqtt-scaler' beside the function, which the trigger then points at; with
--mqtt-scaler-tls-secret over TLS, the trigger's enableTLS set and a TriggerAuthentication giving
KEDA the caCert, and with --mqtt-scaler-client-secret its tlsClientCert/tlsClientKey, which the
scaler then requires). Components and Subscriptions in --resources-path (which
OpenFunction does not create) are rendered in both cases, scoped to the function, and so are the Dapr
Resiliency documents the function uses (its resiliency.yaml, those of --resources-path in its scope).

A function.yaml with spec.build (OpenFunction's build settings) keeps it in the Function and is
followed by Shipwright's Build and BuildRun (shipwright.io/v1beta1): the buildpacks-v3
ClusterBuildStrategy (or spec.build.shipwright.strategy), the source from srcRepo (git url, revision,
sourceSubPath as contextDir, credentials as cloneSecret; bundleContainer as an OCI artifact; without
a url a Local source for 'shp build upload'), the Function's image as the output with
spec.imageCredentials (or --push-secret) as its push secret, build.env as the build's env. A shape
the strategy cannot honour (a dockerfile, a sourceSubPath leaving the repository, a URL that is not
git, no spec.image to push to) is refused naming the file, line and field.

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
    'resources-path': {
      type: 'string',
      value: 'DIR',
      description:
        'Also render the Dapr Components, Subscriptions and Resiliency documents in DIR, scoped to the function',
    },
    'mqtt-scaler-image': {
      type: 'string',
      env: 'SPROUT_MQTT_SCALER_IMAGE',
      value: 'REF',
      description:
        "Render Sprout's MQTT scaler (KEDA external scaler) from this image, whose entrypoint is sprout, for mqtt triggers without scalerAddress",
    },
    'mqtt-scaler-tls-secret': {
      type: 'string',
      value: 'NAME',
      description:
        'With --mqtt-scaler-image: serve the scaler over TLS with this kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt); KEDA trusts its ca.crt (enableTLS, caCert in a TriggerAuthentication)',
    },
    'mqtt-scaler-client-secret': {
      type: 'string',
      value: 'NAME',
      description:
        "With --mqtt-scaler-tls-secret: KEDA's client certificate Secret (tls.crt, tls.key); the scaler then lets in only certificates of the TLS Secret's ca.crt",
    },
    'push-secret': {
      type: 'string',
      value: 'NAME',
      description: 'Secret the Shipwright Build pushes the image with (default: spec.imageCredentials.name)',
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
    // The same reading `sprout dev` and `sprout run` make of the folder (@sprout/spec).
    const fn = loadFunctionDir(dir);
    const manifest = renderFunction({
      name: fn.name,
      version: fn.version,
      image: opts.image ?? '',
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(opts.target ? { target: opts.target } : {}),
      ...(opts['signature-type'] ? { signatureType: opts['signature-type'] } : {}),
      ...(fn.manifest ? { base: fn.manifest } : {}),
    });
    const withoutOf = Boolean(opts['without-openfunction']);
    const scaler = mqttScaler(opts);
    const async = isAsyncFunction(manifest);
    const docs: object[] = !withoutOf
      ? [withClusterScalers(manifest, scaler)]
      : async
        ? [renderAsyncWorkload(manifest, fn.context)]
        : renderWorkload(manifest);
    const namespace = manifest.metadata.namespace;
    const scoping = { ...(namespace ? { namespace } : {}), scopes: [manifest.metadata.name] };
    // Without OpenFunction nobody turns serving.states/pubsub/bindings into Dapr components: render
    // them too (an HTTP function's only need its states). A resources folder's are rendered always.
    const resources = opts['resources-path']
      ? loadResources(resolve(io.cwd, opts['resources-path']), { subscriptions: true, resiliency: true })
      : { components: [], subscriptions: [] };
    const own = withoutOf ? fn.components.filter((c) => async || c.spec.type.startsWith('state.')) : [];
    const components = [
      ...own.filter((c) => !resources.components.some((r) => r.metadata.name === c.metadata.name)),
      ...resources.components,
    ];
    if (components.length) {
      const { renderComponent } = await import('@sprout/state');
      for (const c of components) docs.push(renderComponent(c, scoping));
    }
    for (const sub of resources.subscriptions) docs.push(renderSubscription(sub, scoping));
    // Dapr Resiliency: the folder's (those in scope for the function), then its own resiliency.yaml.
    for (const r of [...(resources.resiliencies ?? []), ...(fn.resiliency ?? [])])
      if (!r.scopes || r.scopes.includes(manifest.metadata.name)) docs.push(renderResiliency(r, scoping));
    if (manifest.spec.build) {
      const shipwright = renderShipwright({
        fn: manifest,
        ...(fn.file ? { at: functionFieldLocator(fn.file) } : {}),
        ...(opts['push-secret'] ? { pushSecret: opts['push-secret'] } : {}),
        defaultImage: !opts.image && !fn.manifest?.spec.image,
      });
      docs.push(shipwright.build, shipwright.buildRun);
      for (const note of shipwright.notes) io.stderr.write(`${note}\n`);
    }
    if (usesKedaHttp(manifest)) docs.push(renderHttpScaledObject(manifest));
    if (withoutOf && async) docs.push(renderScaledObject(manifest, scaler));
    if (scaler) docs.push(...renderMqttScaler(manifest, scaler));
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
