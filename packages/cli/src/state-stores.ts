import type { ComponentRef, FunctionContext } from '@sprout/framework';
import type * as StateApi from '@sprout/state';
import type { ComponentDocument, StateStore } from '@sprout/state';

type StateModule = typeof StateApi;

export interface StateWiring {
  /** Folder of Dapr Component YAML (`--resources-path`). */
  resourcesPath?: string | undefined;
  /** Where embedded engines keep their files (`--data-dir`). */
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * How `sprout run`/`dev` back a function's declared states: the Dapr component of that name in
 * the resources folder (sqlite, redis, postgresql, in-memory); else the Dapr sidecar when
 * DAPR_HTTP_PORT is set (Kubernetes); else, for state.sqlite and state.in-memory, an embedded
 * default under the data dir (any other type without a component is an error naming the file to add).
 * @sprout/state is loaded only when a function declares state.
 */
export function stateStoreOpener(
  wiring: StateWiring,
): (name: string, ref: ComponentRef, context: FunctionContext) => Promise<StateStore> {
  let loaded: Promise<{ state: StateModule; docs: ComponentDocument[] }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const state = await import('@sprout/state');
      const docs = wiring.resourcesPath
        ? state.loadComponents(wiring.resourcesPath, { env: wiring.env })
        : [];
      return { state, docs };
    })());
  return async (_name, ref, context) => {
    const { state, docs } = await load();
    const options = { appId: context.name, dataDir: wiring.dataDir, env: wiring.env };
    const sidecarPort = wiring.env.DAPR_HTTP_PORT;
    if (sidecarPort && !docs.some((d) => d.metadata.name === ref.componentName)) {
      const component = state.parseComponent(
        {
          apiVersion: 'dapr.io/v1alpha1',
          kind: 'Component',
          metadata: { name: ref.componentName },
          spec: { type: ref.componentType, version: 'v1', metadata: [] },
        },
        `state "${ref.componentName}"`,
      );
      return state.openStateStore(component, { ...options, sidecar: { port: Number(sidecarPort) } });
    }
    return state.openStateStore(state.componentForRef(ref, docs), options);
  };
}
