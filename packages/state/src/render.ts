import type { ComponentDocument, MetadataItem } from '@sprout/spec';

/** A Dapr Component manifest (dapr.io/v1alpha1) ready for `kubectl apply`. */
export interface ComponentManifest {
  apiVersion: 'dapr.io/v1alpha1';
  kind: 'Component';
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: {
    type: string;
    version: string;
    metadata: MetadataItem[];
    ignoreErrors?: boolean;
    initTimeout?: string;
  };
  scopes?: string[];
  auth?: { secretStore: string };
}

export interface RenderOptions {
  /** Namespace put on the manifest (the component's own wins when it has one). */
  namespace?: string;
  /** Restrict the component to these app ids (Dapr `scopes`). */
  scopes?: string[];
  labels?: Record<string, string>;
}

/**
 * Renders a state component as the Dapr Component manifest the sidecar reads on Kubernetes.
 * Values stay as written: `secretKeyRef` and `envRef` are kept, never resolved into the manifest.
 *
 * @example
 * const manifest = renderComponent(component, { namespace: 'shop', scopes: ['orders'] });
 * process.stdout.write(yaml.stringify(manifest));
 */
export function renderComponent(
  component: ComponentDocument,
  options: RenderOptions = {},
): ComponentManifest {
  const namespace = component.metadata.namespace ?? options.namespace;
  const scopes = options.scopes ?? component.scopes;
  const spec: ComponentManifest['spec'] = {
    type: component.spec.type,
    version: component.spec.version,
    metadata: component.spec.metadata.map((m) => {
      const item: MetadataItem = { name: m.name };
      if (m.value !== undefined) item.value = String(m.value);
      if (m.envRef !== undefined) item.envRef = m.envRef;
      if (m.secretKeyRef !== undefined)
        item.secretKeyRef = { name: m.secretKeyRef.name, key: m.secretKeyRef.key ?? m.secretKeyRef.name };
      return item;
    }),
  };
  if (component.spec.ignoreErrors !== undefined) spec.ignoreErrors = component.spec.ignoreErrors;
  if (component.spec.initTimeout !== undefined) spec.initTimeout = component.spec.initTimeout;
  return {
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: component.metadata.name,
      ...(namespace ? { namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'sprout', ...options.labels },
    },
    spec,
    ...(scopes?.length ? { scopes } : {}),
    ...(component.auth ? { auth: component.auth } : {}),
  };
}
