// KubeKey's own configs, from the vendored upstream files: the `kk create config` template
// (test/fixtures/kubekey/cluster.go) and the annotated full example (docs/config-example.md,
// vendored with the CRD in @sprout/kube).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vendoredCrdsDir } from '@sprout/kube';

/** What `kk create config --name NAME --with-kubernetes VERSION --container-manager CM` writes. */
export function kkCreateConfig(name: string, version: string, containerManager: string): string {
  const go = readFileSync(new URL('fixtures/kubekey/cluster.go', import.meta.url), 'utf8');
  const body = /dedent\.Dedent\(`([\s\S]*?)`\)/.exec(go)![1]!;
  const text = body
    .replace(/\{\{ if \.Options\.KubeSphereEnabled \}\}[\s\S]*?\{\{ end \}\}/, '')
    .replace('{{ .Options.Name }}', name)
    .replace('{{ .Options.KubeVersion }}', version)
    .replace('{{ .Options.ContainerManager }}', containerManager);
  // The template starts with a newline and ends with the closing backtick's indent.
  return text.replace(/^\n/, '').replace(/\s+$/, '\n');
}

/** The first YAML block of KubeKey's docs/config-example.md: a full 3.x config. */
export function configExample(): string {
  const md = readFileSync(join(vendoredCrdsDir(), 'kubekey/samples/config-example.md'), 'utf8');
  return /```yaml\n([\s\S]*?)```/.exec(md)![1]!;
}
