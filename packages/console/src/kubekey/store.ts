import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeSegment } from '@sprout/http';
import { summarize, type ClusterConfig, type ClusterSummary } from './config.js';
import { ClusterError, type FieldIssue } from './errors.js';
import { SecretBox, openSecrets, sealSecrets, type SealedSecrets } from './secrets.js';
import { createClusterValidator, type ClusterValidator } from './validate.js';
import { parseConfigFile, renderConfigFile } from './yaml.js';

/** A saved config as the API shows it: secrets as references, with its issues. */
export interface SavedCluster {
  summary: ClusterSummary;
  config: ClusterConfig;
  /** The file as saved: the Cluster (secrets as references) and any other documents. */
  yaml: string;
  issues: FieldIssue[];
}

/**
 * Cluster configs under `<dataDir>/kubekey/clusters/<name>/`: `cluster.yaml` with every secret
 * replaced by a reference, `secrets.json` (0600) with the secrets sealed by the key in
 * `<dataDir>/kubekey/secret.key` (0600). The wizard's configs are saved only without errors; an import keeps its errors to be fixed.
 */
export class ClusterStore {
  readonly root: string;
  readonly #validator: ClusterValidator;
  #box: SecretBox | undefined;

  constructor(dataDir: string, validator: ClusterValidator = createClusterValidator()) {
    this.root = join(dataDir, 'kubekey');
    this.#validator = validator;
  }

  get #secrets(): SecretBox {
    this.#box ??= new SecretBox(join(this.root, 'secret.key'));
    return this.#box;
  }

  /** The folder of one cluster (the name is checked to stay inside). */
  dir(name: string): string {
    return join(this.root, 'clusters', safeSegment(name, 'cluster name'));
  }

  validate(config: unknown): FieldIssue[] {
    return this.#validator.validate(config);
  }

  list(): ClusterSummary[] {
    const dir = join(this.root, 'clusters');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => existsSync(join(dir, n, 'cluster.yaml')))
      .sort()
      .map((n) => {
        try {
          return summarize(this.#read(n).cluster);
        } catch {
          // A file edited by hand into something unreadable still shows, to be opened and fixed.
          return { name: n, nodes: 0, kubernetesVersion: '', networkPlugin: '', containerManager: '' };
        }
      });
  }

  get(name: string): SavedCluster {
    const file = this.#read(name);
    return {
      summary: summarize(file.cluster),
      config: file.cluster,
      yaml: renderConfigFile(file),
      issues: this.validate(file.cluster),
    };
  }

  /** Saves a new config (`create`) or replaces a saved one; refuses a config with errors. */
  save(
    config: ClusterConfig,
    o: { create: boolean; others?: string[]; allowErrors?: boolean },
  ): SavedCluster {
    const issues = this.validate(config);
    const errors = issues.filter((i) => i.severity === 'error');
    if (errors.length > 0 && !o.allowErrors) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_INVALID',
        `the config has ${errors.length} error(s): ${errors[0]!.path} ${errors[0]!.message}`,
        {
          field: errors[0]!.path,
          issues,
        },
      );
    }
    const name = config.metadata.name;
    const dir = this.dir(name);
    const exists = existsSync(join(dir, 'cluster.yaml'));
    if (o.create && exists) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_EXISTS',
        `a cluster named ${name} is already saved: pick another name or open it`,
        { field: '/metadata/name' },
      );
    }
    if (!o.create && !exists) throw notFound(name);
    const previous = exists ? this.#sealed(name) : {};
    const others = o.others ?? (exists ? this.#read(name).others : []);
    const { config: stored, sealed } = sealSecrets(config, this.#secrets, previous);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeAtomic(join(dir, 'secrets.json'), JSON.stringify(sealed));
    writeAtomic(join(dir, 'cluster.yaml'), renderConfigFile({ cluster: stored, others }));
    return this.get(name);
  }

  /**
   * Imports a kk config file as users have it; its passwords and keys are sealed like any other.
   * A file with errors is kept with its issues (to be fixed in the wizard); runs refuse it until then.
   */
  import(text: string): SavedCluster {
    const file = parseConfigFile(text);
    if (
      typeof file.cluster.metadata.name !== 'string' ||
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(file.cluster.metadata.name)
    ) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_INVALID',
        'metadata.name must be lower-case letters, digits and - (it names the saved config)',
        { field: '/metadata/name' },
      );
    }
    return this.save(file.cluster, { create: true, others: file.others, allowErrors: true });
  }

  /** Refuses to go on (`SPROUT_ERR_CONSOLE_CLUSTER_INVALID`, with the issues) while the saved config has errors. */
  assertRunnable(name: string): SavedCluster {
    const saved = this.get(name);
    const errors = saved.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_INVALID',
        `fix the config of ${name} first: ${errors[0]!.path} ${errors[0]!.message}`,
        {
          field: errors[0]!.path,
          issues: saved.issues,
        },
      );
    }
    return saved;
  }

  remove(name: string): void {
    const dir = this.dir(name);
    if (!existsSync(join(dir, 'cluster.yaml'))) throw notFound(name);
    rmSync(dir, { recursive: true, force: true });
  }

  /** The file `kk` reads, secrets in clear: only for a 0600 temp file that lives as long as one run. */
  plainConfig(name: string, change?: (c: ClusterConfig) => void): string {
    const file = this.#read(name);
    const plain = openSecrets(file.cluster, this.#secrets, this.#sealed(name));
    change?.(plain);
    return renderConfigFile({ cluster: plain, others: file.others });
  }

  #read(name: string): ReturnType<typeof parseConfigFile> {
    const file = join(this.dir(name), 'cluster.yaml');
    if (!existsSync(file)) throw notFound(name);
    return parseConfigFile(readFileSync(file, 'utf8'));
  }

  #sealed(name: string): SealedSecrets {
    const file = join(this.dir(name), 'secrets.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SealedSecrets) : {};
  }
}

function notFound(name: string): ClusterError {
  return new ClusterError(
    'SPROUT_ERR_CONSOLE_CLUSTER_NOT_FOUND',
    `no saved cluster named ${name}: create or import it first`,
  );
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}
