import type { RoleCode } from '../../workflows/messages'

/**
 * The authenticated person or system behind a request. Access to cases is decided from this,
 * in the SQL of every read (role × area × sensitivity), never after fetching rows.
 */
export interface AuthUser {
  id: string
  username: string
  displayName: string
  locale: 'fr' | 'en'
  /** Designated focal point: may see and handle sensitive cases. */
  clearance: boolean
  /** Temporal operator: the codec endpoint decrypts workflow payloads for them (second factor). */
  canDecodePayloads: boolean
  /** Roles held, each in an administrative area (and so in every area below it). */
  roles: { role: RoleCode; areaCode: string }[]
  /** A browser session (cookie + CSRF token on writes) or a system's bearer token. */
  via: 'session' | 'token'
}

/** Hono environment of the API: what middleware puts in the context. */
export interface AppEnv {
  Variables: {
    /** Set by the authentication middleware on protected routes. */
    user: AuthUser
  }
}
