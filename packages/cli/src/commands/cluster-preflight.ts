import type { PreflightCheck, PreflightReport } from '@sprout/console/kubekey';
import { table } from '../output.js';

// The pre-flight table of `sprout cluster preflight`: one row per check and host, the fix under a
// warn or fail, then the checks across hosts and a summary line.

function rows(scope: string, checks: PreflightCheck[]): string[][] {
  return checks.flatMap((c) => [
    [scope, c.title, c.status, c.detail],
    ...(c.fix && c.status !== 'pass' ? [['', '', '', `fix: ${c.fix}`]] : []),
  ]);
}

export function printPreflight(report: PreflightReport, out: NodeJS.WritableStream): void {
  out.write(
    table([
      ['HOST', 'CHECK', 'RESULT', 'DETAIL'],
      ...report.hosts.flatMap((h) => rows(`${h.host} (${h.address})`, h.checks)),
      ...rows('(all hosts)', report.cluster),
    ]),
  );
  const all = [...report.hosts.flatMap((h) => h.checks), ...report.cluster];
  const count = (s: string) => all.filter((c) => c.status === s).length;
  out.write(
    `\npre-flight ${report.status}: ${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail in ${(report.durationMs / 1000).toFixed(1)} s\n`,
  );
}
