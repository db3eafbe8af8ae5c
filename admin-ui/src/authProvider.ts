import type { AuthProvider } from 'react-admin'
import { API_URL, csrf, getJson, httpClient, postJson } from './api'
import type { Me, RoleCode } from './types'

/** Thrown by `login` when the password was right and an authenticator code is owed. */
export class SecondFactorNeeded extends Error {
  constructor(
    /** otpauth:// URI to enrol an authenticator app (first sign-in only). */
    readonly totpUri: string | undefined,
  ) {
    super('auth.totp_needed')
  }
}

type SignInAnswer = {
  user: Me
  csrfToken: string
  totp: 'not_required' | 'required' | 'enrolment_required'
  totpUri?: string
}

let me: Me | null = null

const loadMe = async (): Promise<Me> => {
  me ??= await getJson<Me>('/auth/me')
  return me
}

/** The roles the user holds, whatever the area: the menu and the pages follow them. */
export const rolesOf = (user: Pick<Me, 'roles'>): RoleCode[] => [
  ...new Set(user.roles.map((r) => r.role)),
]

/**
 * Sign-in by session cookie (DESIGN §5): username and password, then, for supervisors, programme
 * managers and administrators, a TOTP code (`login({ code })`); the CSRF token received at sign-in
 * goes on every write. Permissions are the roles the user holds.
 */
export const authProvider: AuthProvider = {
  async login(params: { username?: string; password?: string; code?: string }) {
    if (params.code !== undefined) {
      const answer = await postJson<{ user: Me; csrfToken: string }>('/auth/totp', {
        code: params.code,
      })
      // The session's id and CSRF token change once the second factor is passed.
      csrf.set(answer.csrfToken)
      me = { ...answer.user }
      return
    }
    const answer = await postJson<SignInAnswer>('/auth/sign-in', {
      username: params.username,
      password: params.password,
    })
    csrf.set(answer.csrfToken)
    me = null
    if (answer.totp !== 'not_required') throw new SecondFactorNeeded(answer.totpUri)
    me = answer.user
  },
  async logout() {
    try {
      if (csrf.get()) await httpClient(`${API_URL}/auth/sign-out`, { method: 'POST' })
    } catch {
      // Already signed out (expired session): nothing to end.
    }
    csrf.clear()
    me = null
  },
  async checkAuth() {
    // Without the CSRF token no write could succeed: sign in again.
    if (!csrf.get()) throw new Error('auth.signed_out')
    await loadMe()
  },
  async checkError(error: { status?: number }) {
    if (error?.status === 401) {
      csrf.clear()
      me = null
      throw new Error('auth.session_expired')
    }
  },
  async getIdentity() {
    const user = await loadMe()
    return { id: user.id, fullName: user.displayName }
  },
  async getPermissions() {
    if (!csrf.get()) return []
    return rolesOf(await loadMe())
  },
}
