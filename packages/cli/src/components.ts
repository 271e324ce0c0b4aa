import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentSpec } from '@sprout/framework';
import { UsageError } from './command.js';

/**
 * Reads the Dapr Component documents in a folder (as `dapr run --resources-path` does) into the
 * specs the framework's native outputs use; metadata values come from `value` or `secretKeyRef`
 * resolved from the environment.
 */
export async function loadComponentSpecs(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ComponentSpec[]> {
  const { parseAllDocuments } = await import('yaml');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch (err) {
    throw new UsageError(`cannot read --resources-path ${dir}: ${(err as Error).message}`);
  }
  const specs: ComponentSpec[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      if (doc.errors.length) throw new UsageError(`${join(dir, f)}: ${doc.errors[0]!.message}`);
      const c = doc.toJS() as {
        kind?: string;
        metadata?: { name?: string };
        spec?: {
          type?: string;
          metadata?: { name: string; value?: unknown; secretKeyRef?: { name: string; key?: string } }[];
        };
      } | null;
      if (c?.kind !== 'Component') continue;
      if (!c.metadata?.name || !c.spec?.type)
        throw new UsageError(`${join(dir, f)}: a Component needs metadata.name and spec.type`);
      const metadata: Record<string, string> = {};
      for (const m of c.spec.metadata ?? []) {
        const v = m.secretKeyRef ? env[m.secretKeyRef.key ?? m.secretKeyRef.name] : m.value;
        if (v !== undefined) metadata[m.name] = typeof v === 'string' ? v : JSON.stringify(v);
      }
      specs.push({ name: c.metadata.name, type: c.spec.type, metadata });
    }
  }
  return specs;
}
