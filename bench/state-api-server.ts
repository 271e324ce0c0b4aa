// Child process for bench/state-dapr-api.ts: serves the Dapr state API over one store, as a sidecar
// would run beside the app. Prints the port, exits on SIGTERM.
import { createLogger } from '@sprout/observe';
import { parseComponent } from '@sprout/spec';
import { MemoryStateStore, createStateApiServer, openStateStore } from '@sprout/state';

const [engine, dataDir] = process.argv.slice(2) as [string, string];
const store =
  engine === 'sqlite'
    ? await openStateStore(
        parseComponent({
          apiVersion: 'dapr.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'statestore' },
          spec: { type: 'state.sqlite', version: 'v1', metadata: [] },
        }),
        { appId: 'bench-api', dataDir },
      )
    : new MemoryStateStore('statestore');
const server = createStateApiServer({
  stores: [store],
  appId: 'bench-api',
  logger: createLogger({ level: 'silent' }),
});
const { port } = await server.listen(0);
process.stdout.write(`${port}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => store.close());
});
