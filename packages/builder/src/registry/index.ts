export { RegistryClient, type RegistryClientOptions, type FetchedManifest } from './client.js';
export { pushImage, pullImage, type TransferOptions, type PushResult } from './transfer.js';
export { parseReference, formatReference, type ImageReference } from './reference.js';
export { credentialsFor, type Credentials } from './credentials.js';
export { parseChallenges, type Challenge } from './challenge.js';
