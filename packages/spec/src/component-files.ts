import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseComponent, type ComponentDocument } from './component.js';
import { SpecError } from './errors.js';
import { parseResiliency, type ResiliencyDocument } from './resiliency.js';
import { parseSubscription, type SubscriptionDocument } from './subscription.js';
import { parseYamlAll } from './yaml.js';

/** What a resources folder holds: its Dapr Components, Subscriptions and Resiliency policies. */
export interface Resources {
  components: ComponentDocument[];
  subscriptions: SubscriptionDocument[];
  /** Present when asked for (`resiliency: true`); scopes are kept, not applied (apps share a folder). */
  resiliencies?: ResiliencyDocument[];
}

export interface ResourcesOptions {
  /** Skip components scoped (`scopes:`) to other apps, as Dapr does for an app id. */
  appId?: string;
  /** Read (and validate) Subscription documents too; by default they are skipped like other kinds. */
  subscriptions?: boolean;
  /** Read (and validate) Resiliency documents too; by default they are skipped like other kinds. */
  resiliency?: boolean;
}

/**
 * Reads every `*.yaml` / `*.yml` / `*.json` file in `dir` (not sub-folders), as
 * `dapr run --resources-path` does: each Component (and, when asked, Subscription) document is
 * validated, other kinds are skipped, a component name used twice is refused. Sources read `file`, or
 * `file:line` for a document of a multi-document file; errors name the `file:line` of the field at fault.
 *
 * @example
 * const { components } = loadResources('./components', { appId: 'orders' });
 */
export function loadResources(dir: string, options: ResourcesOptions = {}): Resources {
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((f) => !f.isDirectory() && /\.(ya?ml|json)$/i.test(f.name))
      .map((f) => f.name)
      .sort();
  } catch (err) {
    throw new SpecError(
      'SPROUT_ERR_SPEC_INVALID_COMPONENT',
      `cannot read resources folder ${dir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const out: Resources = { components: [], subscriptions: [] };
  const resiliencies: ResiliencyDocument[] = [];
  if (options.resiliency) out.resiliencies = resiliencies;
  const names = new Map<string, string>();
  for (const file of files) {
    let body: string;
    try {
      body = readFileSync(join(dir, file), 'utf8');
    } catch (err) {
      const why = `${file}: cannot read: ${(err as Error).message}`;
      throw new SpecError('SPROUT_ERR_SPEC_INVALID_COMPONENT', why, { cause: err });
    }
    const docs = parseYamlAll(body, file, 'SPROUT_ERR_SPEC_INVALID_COMPONENT');
    docs.forEach(({ value, at }) => {
      // A document of a multi-document file is named by the line of its `kind:` (file:line).
      const source = docs.length > 1 ? at(['kind']) : file;
      const kind = (value as { kind?: unknown }).kind;
      if (kind === 'Subscription' && options.subscriptions) {
        out.subscriptions.push(parseSubscription(value, source));
        return;
      }
      if (kind === 'Resiliency' && options.resiliency) {
        resiliencies.push(parseResiliency(value, source, at));
        return;
      }
      if (kind !== 'Component') return;
      const c = parseComponent(value, source, at);
      if (options.appId && c.scopes?.length && !c.scopes.includes(options.appId)) return;
      const seen = names.get(c.metadata.name);
      if (seen) {
        throw new SpecError(
          'SPROUT_ERR_SPEC_INVALID_COMPONENT',
          `${source}: component name "${c.metadata.name}" is already used in ${seen}`,
          { field: 'metadata.name' },
        );
      }
      names.set(c.metadata.name, source);
      out.components.push(c);
    });
  }
  return out;
}
