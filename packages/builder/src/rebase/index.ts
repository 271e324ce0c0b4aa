export { rebaseImage, LIFECYCLE_METADATA, type RebaseResult } from './rebase.js';
export { rebaseInRegistry } from './remote.js';
