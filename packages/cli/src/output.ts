import { UsageError } from './command.js';

// The `-o table|json` option of the listing commands and their plain-text tables.

export const outputOption = {
  output: { type: 'string', short: 'o', default: 'table', value: 'FORMAT', description: 'table or json' },
} as const;

export function checkOutput(o: string): 'table' | 'json' {
  if (o !== 'table' && o !== 'json') throw new UsageError(`--output must be table or json, got '${o}'`);
  return o;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(w[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
