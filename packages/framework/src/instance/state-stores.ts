import type { ComponentDocument } from '@sprout/spec';
import type { StateStore } from '@sprout/state';
import type { ComponentRef, FunctionContext } from '../context.js';

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
  return async (_name, ref, context) => {
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
    return state.openStateStore(state.componentForRef(ref, docs), options);
  };
}
