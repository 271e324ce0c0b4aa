// The KubeKey cluster installer: Cluster configs (wizard model, validation, import, secrets sealed
// at rest), the SSH pre-flight, kk runs with their logs, and the HTTP API the console mounts.
export { createClusterApi, CLUSTER_API_PREFIX, type ClusterApi, type ClusterApiOptions } from './routes.js';
export { ClusterStore, type SavedCluster } from './store.js';
export { RunManager, type RunRecord, type RunLine, type RunStatus, type RunManagerOptions } from './runs.js';
export { RUN_ACTIONS, kkCommandLine, type RunAction, type RunParams } from './kk-command.js';
export {
  runPreflight,
  type PreflightReport,
  type PreflightCheck,
  type HostReport,
  type CheckStatus,
  type PreflightOptions,
} from './preflight.js';
export { parseConfigFile, renderConfigFile, type ConfigFile } from './yaml.js';
export { createClusterValidator, type ClusterValidator } from './validate.js';
export {
  defaultCluster,
  WIZARD_STEPS,
  CLUSTER_API_VERSION,
  SECRET_REF_PREFIX,
  type ClusterConfig,
  type ClusterSpec,
  type HostSpec,
  type ClusterSummary,
} from './config.js';
export { CLUSTER_ERROR_CODES, ClusterError, type ClusterErrorCode, type FieldIssue } from './errors.js';
