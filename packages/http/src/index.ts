export { SproutError, isSproutError, type ErrorBody, type SproutErrorOptions } from './error.js';
export { HttpError, HTTP_ERROR_CODES, type HttpErrorCode } from './errors.js';
export {
  RequestGuard,
  type RequestGuardOptions,
  type GuardRule,
  type Authenticator,
  type Principal,
} from './guard.js';
export {
  parseCookies,
  serializeCookie,
  dropCredentials,
  SESSION_COOKIE,
  CSRF_COOKIE,
  CSRF_HEADER,
  type CookieOptions,
} from './cookies.js';
export type { MountedSite } from './site.js';
export { loadOrCreateToken, readToken, tokenMatches, TOKEN_FILE, type LoadedToken } from './token.js';
export { readBody, readBodyThen, hasBody, type ReadBodyOptions } from './body.js';
export { sendJson, sendError, sendSocketError, errorBody, type InternalFallback } from './respond.js';
export { parseSize, parseDuration, type DurationOptions } from './units.js';
export { freePort } from './ports.js';
export { untilSignal } from './signals.js';
export {
  applyServerLimits,
  connectionCap,
  httpConnectionEvictable,
  resolveServerLimits,
  SERVER_LIMIT_DEFAULTS,
  type ServerLimits,
} from './limits.js';
export { answerClientErrors, refuseHostless } from './client-errors.js';
export { lingerOnRefusedBody, type LingerOptions } from './linger.js';
export { safeSegment, insideDir } from './paths.js';
