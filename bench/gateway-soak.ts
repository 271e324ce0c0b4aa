/**
 * The gateway benchmark's soak (bench/gateway.ts, part 4): load rises and falls so the function
 * scales 0 → N → 0 several times, and every request is tracked to its end, so nothing can go
 * uncounted; the gateway's own 2xx counter is read back to agree.
 */
import { Agent, request } from 'node:http';
import type { GatewayProc } from './gateway-procs.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Health {
  functions: { readyInstances: number; desiredReplicas: number; pending: number }[];
}
/** The first function's status from the gateway's admin listener. */
export async function health(admin: number): Promise<Health['functions'][0]> {
  const h = (await (await fetch(`http://127.0.0.1:${admin}/healthz`)).json()) as Health;
  return h.functions[0]!;
}

/** `cycles` soak cycles through a gateway `start` makes for a scaling policy; the figures. */
export async function runSoak(cycles: number, start: (policy: object) => Promise<GatewayProc>) {
  const soakPolicy = {
    minReplicas: 0,
    maxReplicas: 4,
    targetRate: 250,
    rateWindowMs: 2000,
    rateGranularityMs: 250,
    scaledownPeriodMs: 1000,
  };
  const phases = [
    { rate: 100, seconds: 2 },
    { rate: 400, seconds: 3 },
    { rate: 800, seconds: 3 },
    { rate: 300, seconds: 2 },
    { rate: 0, seconds: 5 },
  ];
  console.log(`soak: ${cycles} cycles of ${phases.map((p) => `${p.rate}/s×${p.seconds}s`).join(' → ')}`);
  const soakGw = await start(soakPolicy);
  let maxReady = 0;
  let zeroes = 0;
  let wasUp = false;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const h = await health(soakGw.admin);
      maxReady = Math.max(maxReady, h.readyInstances);
      if (h.readyInstances > 0) wasUp = true;
      if (wasUp && h.readyInstances === 0 && h.desiredReplicas === 0) {
        zeroes++;
        wasUp = false;
      }
      await sleep(100);
    }
  })();
  const soak = { sent: 0, ok: 0, non2xx: 0, errors: 0 };
  const agentOpts = new Agent({ keepAlive: true, maxSockets: 64 });
  /** Sends `rate` requests per second for `seconds`, each tracked to its end (nothing can go uncounted). */
  async function paced(rate: number, seconds: number): Promise<void> {
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    let issued = 0;
    while (performance.now() - t0 < seconds * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; issued < due; issued++) {
        soak.sent++;
        pending.push(
          new Promise<void>((resolve) => {
            const req = request(
              { host: '127.0.0.1', port: soakGw.port, path: '/', agent: agentOpts },
              (res) => {
                res.resume();
                res.on('end', () => {
                  if (res.statusCode === 200) soak.ok++;
                  else soak.non2xx++;
                  resolve();
                });
              },
            );
            req.on('error', () => {
              soak.errors++;
              resolve();
            });
            req.end();
          }),
        );
      }
      await sleep(5);
    }
    await Promise.all(pending);
  }
  for (let c = 0; c < cycles; c++) {
    for (const p of phases) {
      if (p.rate === 0) await sleep(p.seconds * 1000);
      else await paced(p.rate, p.seconds);
    }
  }
  const gwCounted = Number(
    /sprout_gateway_requests_total\{function="hello",code="2xx"\} (\d+)/.exec(
      await (await fetch(`http://127.0.0.1:${soakGw.admin}/metrics`)).text(),
    )?.[1] ?? 0,
  );
  agentOpts.destroy();
  polling = false;
  await poller;
  await soakGw.stop();
  const lost = soak.sent - soak.ok - soak.non2xx - soak.errors;
  console.log(
    `soak: sent ${soak.sent}, 2xx ${soak.ok} (gateway counted ${gwCounted}), non-2xx ${soak.non2xx}, errors ${soak.errors}, unanswered ${lost}; max ready ${maxReady}; back to zero ${zeroes} times`,
  );
  return {
    ...soak,
    gatewayCounted2xx: gwCounted,
    unanswered: lost,
    maxReady,
    backToZero: zeroes,
    policy: soakPolicy,
    phases,
    cycles,
  };
}
