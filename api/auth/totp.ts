import { Secret, TOTP } from 'otpauth'
import type { RoleCode } from '../../workflows/messages'

export const TOTP_ISSUER = 'RSU Casework'
const PERIOD = 30

/** Roles whose holders must pass a second factor: they approve, reassign and administer. */
export const TOTP_ROLES: readonly RoleCode[] = ['supervisor', 'programme_manager', 'administrator']

/**
 * A user holding any of TOTP_ROLES, in any area, or the Temporal operator's permission (it
 * decrypts every payload), needs a TOTP code after the password.
 */
export function requiresTotp(user: {
  roles: { role: RoleCode }[]
  canDecodePayloads: boolean
}): boolean {
  return user.canDecodePayloads || user.roles.some((r) => TOTP_ROLES.includes(r.role))
}

/** A new random secret (160 bits, base32, as authenticator apps expect). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32
}

const totp = (secret: string, username: string) =>
  new TOTP({
    issuer: TOTP_ISSUER,
    label: username,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  })

/** The `otpauth://` URI an authenticator app scans at enrolment. */
export function totpUri(secret: string, username: string): string {
  return totp(secret, username).toString()
}

/**
 * The time step a code belongs to, or null if it is not valid at `now` ± one step (clock drift).
 * Callers refuse a step not later than the last accepted one, so no code is used twice.
 */
export function totpStep(secret: string, code: string, now: Date): number | null {
  const t = totp(secret, 'check')
  const delta = t.validate({ token: code, timestamp: now.getTime(), window: 1 })
  if (delta === null) return null
  return t.counter({ timestamp: now.getTime() }) + delta
}
