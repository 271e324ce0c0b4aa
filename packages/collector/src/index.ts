export {
  createCollector,
  type Collector,
  type CollectorOptions,
  type PushRecord,
} from './engine/collector.js';
export { loadConfig, parseConfig, type CollectorConfig } from './config/load.js';
export { CollectorError, errorCodes, type CollectorErrorCode } from './errors.js';
export { tagMatcher } from './engine/match.js';
export type { CollectorRecord, MetricBody, RecordKind } from './types.js';
export type {
  InputPlugin,
  OutputPlugin,
  FilterPlugin,
  Parser,
  InputContext,
  OutputInstance,
} from './plugin.js';
export { runConfigTests, type ConfigTestResult } from './config/tests.js';
export {
  renderClusterInput,
  renderCollector,
  renderManifests,
  clusterInputsToConfig,
  type RenderedInput,
} from './kube/render.js';
