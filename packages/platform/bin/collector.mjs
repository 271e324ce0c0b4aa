// The collector of `sprout dev`, in a process of its own: a collector that fails at run time (an
// input's server crashing, a pipeline running out of memory) ends this process only, and `sprout
// dev` restarts it with backoff (see src/collector-process.ts). The platform sends the pipeline
// first, then records to push, metrics requests and, at the end, close. Log lines go to stderr as
// JSON; the platform reads them into its own log.
import { createCollector, exposedInputs, loadConfig, parseConfig } from '@sprout/collector';
import { createLogger } from '@sprout/observe';

const log = createLogger({ name: 'collector', format: 'json' });
let collector;
let closing = false;

async function stop(code) {
  if (closing) return;
  closing = true;
  await collector?.close().catch((err) => log.error({ err }, 'collector close failed'));
  process.exit(code);
}

// The platform went away (killed, crashed): flush and stop rather than run on as an orphan.
process.once('disconnect', () => void stop(0));

process.once('message', async (m) => {
  try {
    const config = m.configFile ? loadConfig(m.configFile) : parseConfig(m.yaml);
    collector = createCollector(config, { logger: log });
    await collector.start();
  } catch (err) {
    process.send({ type: 'failed', code: err?.code, message: err?.message ?? String(err) }, () =>
      process.exit(1),
    );
    return;
  }
  for (const w of exposedInputs(collector.inputs()))
    log.warn({ input: w.input, host: w.host, port: w.port, exposed: true }, w.msg);
  let failures = 0;
  process.on('message', (msg) => {
    if (msg.type === 'push') {
      collector.push(msg.records).then(
        () => (failures = 0),
        (err) => {
          // Reported once per streak so a broken output does not flood the log.
          if (failures++ === 0) log.error({ err }, 'records were not accepted by the collector');
        },
      );
    } else if (msg.type === 'metrics') {
      collector.metrics.metrics().then(
        (text) => process.send({ type: 'metrics', id: msg.id, text }),
        () => process.send({ type: 'metrics', id: msg.id, text: '' }),
      );
    } else if (msg.type === 'close') void stop(0);
  });
  process.send({ type: 'started', inputs: collector.inputs() });
});
