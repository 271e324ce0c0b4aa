/**
 * The gateway under benchmark, in a process of its own (as `sprout dev` runs it). Prints
 * "GATEWAY <port> <adminPort>" once listening.
 *
 *   node --import tsx bench/gateway-server.ts static <instancePort>         route / to a running instance
 *   node --import tsx bench/gateway-server.ts spawn <functionDir> <policy>   scale framework instances of a folder
 */
import { createGateway, type FunctionUpstream, type ScalingPolicy } from '@sprout/gateway';
import { createLogger } from '@sprout/observe';
import { frameworkReadyLine, ProcessUpstream } from '../packages/gateway/test/process-upstream.js';

const [mode, arg, policyJson] = process.argv.slice(2);
const gateway = createGateway({
  logger: createLogger({ name: 'gateway', level: 'warn' }),
  scaleIntervalMs: 100,
  // extra createGateway options from bench/gateway.ts --gateway-args
  ...(JSON.parse(process.env.SPROUT_BENCH_GATEWAY_OPTIONS || '{}') as object),
});
let upstream: FunctionUpstream;
let scaling: ScalingPolicy = { minReplicas: 1, maxReplicas: 1 };
let processes: ProcessUpstream | undefined;
if (mode === 'static') {
  const instance = { id: 'static', host: '127.0.0.1', port: Number(arg) };
  upstream = {
    name: 'hello',
    instances: () => [instance],
    scaleTo: () => {},
    onInstancesChanged: () => () => {},
  };
} else {
  processes = new ProcessUpstream('hello', {
    command: [
      process.execPath,
      'packages/cli/bin/sprout.js',
      'run',
      arg!,
      '--target',
      'hello',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    env: { SPROUT_LOG_LEVEL: 'info', NODE_ENV: 'production' },
    readyLine: frameworkReadyLine,
  });
  upstream = processes;
  scaling = JSON.parse(policyJson!) as ScalingPolicy;
}
gateway.setRoutes([{ upstream, scaling }]);
const { port } = await gateway.listen(0, '127.0.0.1');
const admin = await gateway.listenAdmin(0, '127.0.0.1');
process.stdout.write(`GATEWAY ${port} ${admin.port}\n`);
process.on('SIGTERM', () => {
  void gateway
    .close()
    .then(() => processes?.close())
    .then(() => process.exit(0));
});
