/**
 * The platform API's answers as the console reads them: names for the types generated from the
 * platform's OpenAPI document (`openapi.gen.ts`, written by `packages/console/openapi-types.mjs`
 * from packages/platform/openapi.yaml; test/openapi.test.ts fails when it is stale).
 */
import type { Schemas } from './openapi.gen.js';

export type FunctionView = Schemas['Function'];
export type FunctionList = Schemas['FunctionList'];
export type LogLine = Schemas['LogLine'];
export type PlatformEvent = Schemas['Event'];
/** What instance.*, scale and cold-start events say of their function's counts after the change. */
export type FunctionStatus = NonNullable<PlatformEvent['status']>;
/** Who the console is signed in as (`GET /v1/auth/session`). */
export type Session = Schemas['Principal'];
/** A source-to-image build under `sprout dev` (`/v1/builds`). */
export type Build = Schemas['Build'];
/** One line of a build's log (`event: log` of `/v1/builds/{id}/logs`). */
export type BuildLogLine = Schemas['BuildLogLine'];
