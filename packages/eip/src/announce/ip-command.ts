import { execFile } from 'node:child_process';
import { EipError } from '../errors.js';

/** Runs `ip …` (iproute2), optionally inside a network namespace; rejects with a coded error. */
export function ipCommand(args: string[], netns?: string): Promise<string> {
  const full = netns ? ['-n', netns, ...args] : args;
  return new Promise((resolve, reject) => {
    execFile('ip', full, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (stderr || err.message).trim().split('\n')[0];
      reject(
        new EipError('SPROUT_ERR_EIP_ANNOUNCE', `ip ${full.join(' ')} failed: ${why}`, undefined, {
          cause: err,
        }),
      );
    });
  });
}
