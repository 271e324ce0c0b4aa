export { OciLayout, REF_NAME, ociArchitecture, pickPlatform } from './layout.js';
export { BlobWriter } from './blob-writer.js';
export { writeLayer, NORMALIZED_TIME, type LayerOptions } from './layer.js';
export type { LayerSource } from './layer-entries.js';
export {
  writeImage,
  writeManifest,
  composeConfig,
  type ImageSpec,
  type ConfigChanges,
  type AddedLayer,
} from './image.js';
export { writeDockerArchive } from './docker-archive.js';
export { parseConfig, parseIndex, parseManifest, parseDescriptor } from './parse.js';
export { isDigest, sha256 } from './digest.js';
export * from './types.js';
