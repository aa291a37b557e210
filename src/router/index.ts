/** The routing core's public surface: pure functions and frozen structures, no I/O. */
export type { RouteRequest } from './request.js';
export { canonicalAuthority, formatAuthority, type CanonicalAuthority } from './authority.js';
export {
  compileRouteConfig,
  type CompiledRoute,
  type CompiledRouteConfig,
  type CompiledRouteEntry,
  type CompiledVirtualHost,
} from './compile.js';
export { decide } from './decide.js';
export {
  NO_ROUTE,
  type Decision,
  type DirectAction,
  type DirectDecision,
  type ForwardAction,
  type ForwardDecision,
  type NoRouteDecision,
} from './decision.js';
export { RouteCompileError } from './errors.js';
export { createBalancer, type Balancer } from './load-balancer.js';
export { createRandom, type Random } from './random.js';
export { rewritePath } from './rewrite.js';
export { compileStringMatch, type StringPredicate } from './string-match.js';
export { createMirrorSampler, createWeightedPicker, type MirrorSampler, type WeightedPicker } from './weighted.js';
