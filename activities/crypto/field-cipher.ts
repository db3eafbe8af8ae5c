import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { Keyring } from './payload-codec'

const PREFIX = 'enc:v1:'

/**
 * Application-level encryption at rest of sensitive fields in PostgreSQL (complainant contact,
 * notification recipients): AES-256-GCM, the key id stored with the ciphertext as
 * `enc:v1:<keyId>:<base64(iv | ciphertext | tag)>`, the key id bound as additional authenticated
 * data. A value without the prefix is legacy plaintext and reads as is, so rows written before
 * encryption stay readable; `npm run keys:rotate-data` re-encrypts every row with the active key.
 */
export class FieldCipher {
  constructor(private readonly keyring: Keyring) {
    if (!keyring.keys[keyring.activeKeyId]) throw new Error('the active data key is missing')
  }

  get activeKeyId(): string {
    return this.keyring.activeKeyId
  }

  encrypt(plaintext: string): string {
    const id = this.keyring.activeKeyId
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.keyring.keys[id]!, iv)
    cipher.setAAD(Buffer.from(id))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return `${PREFIX}${id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`
  }

  decrypt(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored
    const rest = stored.slice(PREFIX.length)
    const colon = rest.indexOf(':')
    const id = rest.slice(0, colon)
    const key = Object.hasOwn(this.keyring.keys, id) ? this.keyring.keys[id] : undefined
    if (!key) throw new Error(`stored value uses unknown data key id "${id.slice(0, 32)}"`)
    const raw = Buffer.from(rest.slice(colon + 1), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAAD(Buffer.from(id))
    decipher.setAuthTag(raw.subarray(raw.length - 16))
    return Buffer.concat([
      decipher.update(raw.subarray(12, raw.length - 16)),
      decipher.final(),
    ]).toString('utf8')
  }

  /** The key id of a stored value, or null for legacy plaintext. */
  keyIdOf(stored: string): string | null {
    if (!stored.startsWith(PREFIX)) return null
    return stored.slice(PREFIX.length).split(':', 1)[0] ?? null
  }
}

/** Encrypts a nullable field. */
export const sealed = (cipher: FieldCipher, value: string | null | undefined) =>
  value === null || value === undefined ? null : cipher.encrypt(value)
/** Decrypts a nullable field. */
export const opened = (cipher: FieldCipher, value: string | null | undefined) =>
  value === null || value === undefined ? null : cipher.decrypt(value)
