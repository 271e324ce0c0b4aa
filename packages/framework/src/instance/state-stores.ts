import type { ComponentDocument } from '@sprout/spec';
import type { StateStore } from '@sprout/state';
import type { ComponentRef, FunctionContext } from '../context.js';
import { FrameworkError } from '../errors.js';

export interface StateWiring {
  /** The function's components, metadata resolved. */
  components: ComponentDocument[];
  /** Where embedded engines keep their files. */
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * How an instance backs a function's declared states: the Dapr component of that name (sqlite,
 * redis, postgresql, in-memory); else the Dapr sidecar when DAPR_HTTP_PORT is set (Kubernetes);
 * else, for state.sqlite and state.in-memory, an embedded default under the data dir (any other type
 * without a component is an error naming the file to add). @sprout/state is loaded only when a
 * function declares state.
 */
export function stateStoreOpener(
  wiring: StateWiring,
): (name: string, ref: ComponentRef, context: FunctionContext) => Promise<StateStore> {
  return async (name, ref, context) => {
    const [state, spec] = await Promise.all([import('@sprout/state'), import('@sprout/spec')]);
    const docs = wiring.components.filter((c) => c.spec.type.startsWith('state.'));
    const options = { appId: context.name, dataDir: wiring.dataDir, env: wiring.env };
    const sidecarPort = wiring.env.DAPR_HTTP_PORT;
    if (sidecarPort && !docs.some((d) => d.metadata.name === ref.componentName)) {
      const component = spec.componentOf(
        ref.componentName,
        { type: ref.componentType, metadata: [] },
        `state "${ref.componentName}"`,
      );
      return state.openStateStore(component, { ...options, sidecar: { port: Number(sidecarPort) } });
    }
    const local = docs.find((d) => d.metadata.name === ref.componentName);
    const type = ref.componentType;
    if (!local && type !== 'state.sqlite' && type !== 'state.in-memory') {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_STATE_COMPONENT_MISSING',
        `state "${name}" uses component "${ref.componentName}" (${type}), which has no metadata here and no Dapr sidecar (DAPR_HTTP_PORT is unset): ` +
          `put a Dapr Component with metadata.name "${ref.componentName}" and spec.type ${type} in a file such as components/${ref.componentName}.yaml ` +
          `and pass that folder with --resources-path, or declare it under spec.serving.states.${ref.componentName} in function.yaml, or set DAPR_HTTP_PORT to use a sidecar`,
        { field: `states.${name}` },
      );
    }
    return state.openStateStore(state.componentForRef(ref, docs), options);
  };
}
