export {
  createCollector,
  type Collector,
  type CollectorOptions,
  type PushRecord,
} from './engine/collector.js';
export { loadConfig, parseConfig, type CollectorConfig } from './config/load.js';
export { CollectorError, errorCodes, type CollectorErrorCode } from './errors.js';
export { tagMatcher } from './engine/match.js';
export { exposedInputs } from './engine/exposed.js';
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
export { renderManifests, clusterInputsToConfig, type RenderedPipeline } from './kube/render.js';
export { renderClusterInput, type RenderedInput } from './kube/input.js';
export { renderClusterFilter } from './kube/filter.js';
export { renderClusterOutput, type RenderedOutput } from './kube/output.js';
export { renderClusterParsers } from './kube/parser.js';
export { renderFluentBitConfig } from './kube/fluentbit-config.js';
export { renderCollector } from './kube/collector.js';
