export type { Role } from '@happening/contracts';
export {
  type Authenticate,
  type AuthPluginOptions,
  authOptionsFromConfig,
  authPlugin,
} from './auth.plugin.ts';
export { type JwksOptions, UnknownSigningKeyError } from './jwks.key-resolver.ts';
export { type MembershipLookup, requireOrgRole } from './org-role.guard.ts';
export { type Principal, principalFromClaims } from './principal.ts';
