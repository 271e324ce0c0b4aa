// Network namespaces for tests that need root. Under CI=true a namespace that cannot be created
// fails the test with the reason; elsewhere the suite is skipped with the reason printed.
import { execFileSync } from 'node:child_process';

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates a namespace with `lo` up; returns its name, or the reason it could not. */
export function createNetns(prefix: string): { name?: string; reason?: string } {
  const name = `${prefix}-${process.pid}`;
  try {
    try {
      sh('ip', ['netns', 'del', name]);
    } catch {
      // not there: fine
    }
    sh('ip', ['netns', 'add', name]);
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return { name };
  } catch (err) {
    return {
      reason: `cannot create network namespace ${name} (needs root and iproute2): ${(err as Error).message.split('\n')[0]}`,
    };
  }
}

export function deleteNetns(name: string | undefined): void {
  if (!name) return;
  try {
    sh('ip', ['netns', 'del', name]);
  } catch {
    // already gone
  }
}

/** `describe` for root-only suites: fails under CI when set-up is impossible, skips loudly otherwise. */
export function requireSetup(reason: string | undefined): 'run' | 'skip' {
  if (!reason) return 'run';
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: root-only tests must run)`);
  console.warn(`SKIPPED (not CI): ${reason}`);
  return 'skip';
}
