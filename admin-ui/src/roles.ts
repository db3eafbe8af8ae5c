import type { RoleCode } from './types'

/** Does the user hold any of these roles (in any area)? The menu and the pages follow this. */
export const holds = (permissions: unknown, ...roles: RoleCode[]): boolean =>
  Array.isArray(permissions) && roles.some((r) => (permissions as RoleCode[]).includes(r))
