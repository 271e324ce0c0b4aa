// The function's own process, as deployed: under `sprout dev` the delivery engine runs in the dev
// server and the function in an instance process of its own, which the engine POSTs to. This is
// that process for bench/triggers.ts: a @sprout/framework server (its public `serve`) running the
// no-op async function, nothing else. Over IPC it sends `{ url }` once it listens and, when asked
// (`'stats'`), its CPU time so far, its peak resident memory and the latency samples its handler took (messages stamped with
// `sentAt`, from the `warmN`-th on): a couple of messages per round, none per delivery.
//
//   node --conditions=@sprout/source --import tsx bench/triggers-function.ts <broker> <topic> <group> <warmN>
import { asyncFunction, nowMs, serveFunction, type Broker } from './triggers-harness.js';

const [broker, topic, group, warm] = process.argv.slice(2) as [Broker, string, string, string];
const warmN = Number(warm);
const samples: number[] = [];
const server = await serveFunction(asyncFunction(broker, topic, group), (data) => {
  const { i, sentAt } = data as { i: number; sentAt?: number };
  if (sentAt !== undefined && i >= warmN) samples.push(nowMs() - sentAt);
});
process.on('message', (m) => {
  if (m !== 'stats') return;
  const { user, system } = process.cpuUsage();
  process.send!({ cpuUs: user + system, samples, maxRssMiB: process.resourceUsage().maxRSS / 1024 });
});
process.once('disconnect', () => void server.close().then(() => process.exit(0)));
process.send!({ url: server.url });
