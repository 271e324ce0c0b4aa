export { ResiliencyPolicies, type ComponentPolicy, type ComponentKind, type Direction } from './policies.js';
export { CircuitBreaker, type BreakerState } from './breaker.js';
