import { hash, verify, type Algorithm } from '@node-rs/argon2'

// Algorithm is a const enum the package does not ship as a value: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm.Argon2id

/** Passwords longer than this are refused before hashing: argon2 on megabytes is a cheap DoS. */
export const PASSWORD_MAX_LENGTH = 256
export const PASSWORD_MIN_LENGTH = 10

/** Hashes a password with argon2id (the library's default cost, as the seed uses). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID })
}

let dummyHash: Promise<string> | undefined

/**
 * Checks a password against a stored argon2 hash. Without a hash (no such user, inactive user, no
 * password set) it verifies against a dummy hash anyway, so that the answer takes the same time
 * and a wrong username cannot be told from a wrong password.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  dummyHash ??= hashPassword('not the password of anyone: timing equaliser')
  const against = stored ?? (await dummyHash)
  try {
    const ok = await verify(against, password)
    return ok && stored !== null
  } catch {
    // A malformed stored hash never lets anyone in.
    return false
  }
}

/** Why a new password is refused, or null: min length, and not the username. */
export function passwordProblem(username: string, password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return `The new password must have at least ${PASSWORD_MIN_LENGTH} characters`
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return `The new password must have at most ${PASSWORD_MAX_LENGTH} characters`
  }
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) {
    return 'The new password must not be the username'
  }
  return null
}
