import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Component {
  type: 'library';
  'bom-ref': string;
  name: string;
  group?: string;
  version: string;
  purl: string;
  licenses?: { license: { id?: string; name?: string } }[];
}

/** A package URL for an npm package (`pkg:npm/%40scope/name@1.2.3`). */
function purl(name: string, version: string): string {
  const [scope, bare] = name.startsWith('@') ? name.split('/') : [undefined, name];
  return `pkg:npm/${scope ? `${encodeURIComponent(scope)}/` : ''}${encodeURIComponent(bare!)}@${encodeURIComponent(version)}`;
}

/** Every package under a node_modules tree (scoped, nested and pnpm's .pnpm ones too), as name, version and licence. */
function walk(dir: string, out: Map<string, Component>): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir).sort()) {
    if (entry === '.pnpm') {
      // pnpm's store: every package at .pnpm/<name>@<version>/node_modules/<name> (the top level links there).
      for (const store of readdirSync(join(dir, entry)).sort())
        walk(join(dir, entry, store, 'node_modules'), out);
      continue;
    }
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@')
      ? readdirSync(join(dir, entry))
          .sort()
          .map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of names) {
      const pkgDir = join(dir, name);
      let manifest: { name?: unknown; version?: unknown; license?: unknown };
      try {
        manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as typeof manifest;
      } catch {
        continue;
      }
      if (typeof manifest.version === 'string') {
        const version = manifest.version;
        const ref = purl(name, version);
        if (!out.has(ref)) {
          const license = typeof manifest.license === 'string' ? manifest.license : undefined;
          const slash = name.indexOf('/');
          out.set(ref, {
            type: 'library',
            'bom-ref': ref,
            ...(name.startsWith('@')
              ? { group: name.slice(0, slash), name: name.slice(slash + 1) }
              : { name }),
            version,
            purl: ref,
            ...(license
              ? {
                  licenses: [
                    { license: /^[A-Za-z0-9.+-]+$/.test(license) ? { id: license } : { name: license } },
                  ],
                }
              : {}),
          });
        }
      }
      walk(join(pkgDir, 'node_modules'), out);
    }
  }
}

/**
 * A CycloneDX 1.5 SBOM (JSON) of the packages in a node_modules tree, sorted by package URL and
 * without a timestamp or serial number, so the same tree gives the same bytes.
 */
export function nodeModulesSbom(nodeModules: string, app: { name?: string; version?: string }): string {
  const components = new Map<string, Component>();
  walk(nodeModules, components);
  const bom = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      tools: [{ vendor: 'Sprout', name: 'sprout build' }],
      component: {
        type: 'application',
        name: app.name ?? 'app',
        ...(app.version ? { version: app.version } : {}),
      },
    },
    components: [...components.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0)),
  };
  return `${JSON.stringify(bom, null, 2)}\n`;
}
