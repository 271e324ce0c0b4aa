import { parseAllDocuments, stringify } from 'yaml';
import { CLUSTER_API_VERSION, CLUSTER_KIND, type ClusterConfig } from './config.js';
import { ClusterError } from './errors.js';

/** The largest config file accepted (KubeKey's full annotated example is 13 KB). */
const MAX_CONFIG_BYTES = 1 << 20;

/** A config file as KubeKey reads it: the `Cluster` and any documents beside it (KubeSphere's installer). */
export interface ConfigFile {
  cluster: ClusterConfig;
  /** The other YAML documents of the file, as text, in order (written back after the Cluster). */
  others: string[];
}

/**
 * Reads a `kk` config file. Refuses, with `SPROUT_ERR_CONSOLE_CLUSTER_YAML_INVALID` and the line,
 * text that is not YAML, holds no `kubekey.kubesphere.io/v1alpha2` `Cluster`, or is over 1 MiB.
 */
export function parseConfigFile(text: string): ConfigFile {
  if (typeof text !== 'string' || Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    throw new ClusterError(
      'SPROUT_ERR_CONSOLE_CLUSTER_YAML_INVALID',
      'the config must be YAML text of at most 1 MiB',
    );
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(docs)) throw invalid('the text is not YAML documents');
  let cluster: ClusterConfig | undefined;
  const others: string[] = [];
  for (const doc of docs) {
    const e = doc.errors[0];
    if (e) {
      const at = e.linePos?.[0];
      throw invalid(
        `YAML error${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${e.message.split('\n')[0]}`,
        at ? `line ${at.line}` : undefined,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw invalid(`YAML error: ${(err as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    const v = value as Record<string, unknown>;
    if (!cluster && v.kind === CLUSTER_KIND && v.apiVersion === CLUSTER_API_VERSION) {
      cluster = normalize(v);
    } else {
      // kept as written; a document the YAML library reads but cannot write back (an anchor with
      // control characters) is refused like any other YAML error
      try {
        others.push(doc.toString());
      } catch (err) {
        throw invalid(`YAML error: ${(err as Error).message}`);
      }
    }
  }
  if (!cluster) {
    throw invalid(
      `no ${CLUSTER_KIND} of ${CLUSTER_API_VERSION} in the file (a kk 3.x config starts with apiVersion: ${CLUSTER_API_VERSION})`,
    );
  }
  return { cluster, others };
}

function invalid(message: string, field?: string): ClusterError {
  return new ClusterError('SPROUT_ERR_CONSOLE_CLUSTER_YAML_INVALID', message, { field });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The shape the rest of the code relies on: objects where objects go, arrays where arrays go. */
function normalize(v: Record<string, unknown>): ClusterConfig {
  if (!isObject(v.metadata)) throw invalid('metadata must be a mapping with a name', '/metadata');
  if (!isObject(v.spec)) throw invalid('spec must be a mapping', '/spec');
  const spec = v.spec;
  if (spec.hosts !== undefined && !Array.isArray(spec.hosts))
    throw invalid('spec.hosts must be a list', '/spec/hosts');
  if (Array.isArray(spec.hosts) && spec.hosts.some((h) => !isObject(h))) {
    throw invalid('each of spec.hosts must be a mapping', '/spec/hosts');
  }
  if (spec.roleGroups !== undefined && !isObject(spec.roleGroups)) {
    throw invalid('spec.roleGroups must be a mapping of role to host names', '/spec/roleGroups');
  }
  spec.hosts ??= [];
  spec.roleGroups ??= {};
  return v as unknown as ClusterConfig;
}

/** The file text: the Cluster, then the other documents as they came. */
export function renderConfigFile(file: ConfigFile): string {
  const docs = [stringify(file.cluster, { lineWidth: 0 }), ...file.others];
  return docs.map((d) => d.replace(/\n*$/, '\n')).join('---\n');
}
