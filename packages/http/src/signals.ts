/** Resolves with the name of the first SIGTERM or SIGINT the process receives. */
export function untilSignal(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      for (const x of signals) process.off(x, on);
      resolve(s);
    };
    for (const s of signals) process.on(s, on);
  });
}
