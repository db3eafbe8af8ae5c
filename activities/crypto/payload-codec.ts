import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Payload, PayloadCodec } from '@temporalio/common'
// A dependency of @temporalio/common (same version); CommonJS, hence the default import.
import proto from '@temporalio/proto'
import { UNENCRYPTED_PAYLOAD } from '../../workflows/command-proof'

const ProtoPayload = proto.temporal.api.common.v1.Payload

export const ENCRYPTED_ENCODING = 'binary/encrypted'
export const KEY_ID_METADATA = 'encryption-key-id'

const ID = /^[A-Za-z0-9_-]{1,32}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

/** AES-256 keys by id; `activeKeyId` encrypts, every key decrypts (so old histories stay readable). */
export interface Keyring {
  activeKeyId: string
  keys: Record<string, Uint8Array>
}

/** Decodes one key, checking it is strict base64 of exactly 32 bytes. Messages never show the key. */
function decodeKey(id: string, base64: string): Uint8Array {
  if (!BASE64.test(base64)) throw new Error(`payload key "${id}" is not valid base64`)
  const key = Buffer.from(base64, 'base64')
  if (key.length !== KEY_BYTES) {
    throw new Error(`payload key "${id}" must be ${KEY_BYTES} bytes, got ${key.length}`)
  }
  return key
}

function buildKeyring(entries: [string, string][]): Keyring {
  if (entries.length === 0) throw new Error('payload keyring is empty')
  const seen = new Set<string>()
  for (const [id] of entries) {
    if (seen.has(id)) throw new Error(`payload key id "${id}" appears twice`)
    seen.add(id)
  }
  // fromEntries defines own properties, so an id like "__proto__" cannot touch the prototype.
  const keys = Object.fromEntries(entries.map(([id, key]) => [id, decodeKey(id, key)]))
  return { activeKeyId: entries[0]![0], keys }
}

/**
 * Parses `id1:base64key,id2:base64key` (e.g. from an environment variable). The first key encrypts
 * new payloads; all of them decrypt, which is what makes key rotation safe for open cases.
 */
export function parseKeyring(spec: string): Keyring {
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index): [string, string] => {
      const colon = entry.indexOf(':')
      const id = entry.slice(0, colon)
      // The id is not echoed: a malformed entry may be a key pasted in the wrong place.
      if (colon < 0 || !ID.test(id)) {
        throw new Error(
          `payload keyring entry ${index + 1} must be id:base64key with an id of 1-32 letters, digits, _ or -`,
        )
      }
      return [id, entry.slice(colon + 1)]
    })
  return buildKeyring(entries)
}

/**
 * A new key for rotation, as `id:base64key`. To rotate, prepend it to the keyring spec and keep
 * the old keys after it (`new:…,old:…`): new payloads use the new key, existing histories still
 * decrypt. Remove an old key only once no retained history uses it.
 */
export function generateKeySpec(id: string): string {
  if (!ID.test(id)) throw new Error('payload key id must be 1-32 letters, digits, _ or -')
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`
}

interface KeyringFile {
  activeKeyId: string
  keys: Record<string, string>
}

function parseKeyringFile(file: string, text: string): Keyring {
  let parsed: KeyringFile
  try {
    parsed = JSON.parse(text) as KeyringFile
  } catch {
    throw new Error(`payload keyring file ${file} is not valid JSON`)
  }
  if (typeof parsed?.keys !== 'object' || parsed.keys === null) {
    throw new Error(`payload keyring file ${file} has no "keys" object`)
  }
  const entries = Object.entries(parsed.keys).map(([id, key]): [string, string] => {
    if (!ID.test(id) || typeof key !== 'string') {
      throw new Error(`payload keyring file ${file} has a malformed entry`)
    }
    return [id, key]
  })
  // The active key is named, not implied by order: JSON objects reorder integer-like keys.
  const active = entries.findIndex(([id]) => id === parsed.activeKeyId)
  if (active < 0) {
    throw new Error(`payload keyring file ${file}: activeKeyId is not one of its keys`)
  }
  entries.unshift(...entries.splice(active, 1))
  return buildKeyring(entries)
}

/**
 * The embedded default keyring, so that `npm start` encrypts with no configuration and cases stay
 * readable across restarts: reads `file` (`{ "activeKeyId": id, "keys": { id: base64 } }`) or
 * creates it with one random key, readable by the owner only.
 */
export async function loadOrCreateKeyring(file: string): Promise<Keyring> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)])
    // A key other local users can read is not a secret: refuse it (POSIX permissions only).
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new Error(`payload keyring file ${file} is accessible to other users: chmod 600 it`)
    }
    return parseKeyringFile(file, text)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const id = `local-${randomBytes(4).toString('hex')}`
  const key = randomBytes(KEY_BYTES).toString('base64')
  const content: KeyringFile = { activeKeyId: id, keys: { [id]: key } }
  // Written aside then hard-linked: the file appears complete or not at all, and if another
  // process (API and worker starting together) created it first, its keyring wins.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  try {
    await link(temp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return await loadOrCreateKeyring(file)
  } finally {
    await unlink(temp)
  }
  return buildKeyring([[id, key]])
}

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8')

/**
 * Encrypts every Temporal payload (inputs, results, signals, updates, memos, failures) with
 * AES-256-GCM before it leaves the process (DESIGN §5: Temporal payloads are encrypted), so the
 * Temporal server, its database and its UI only ever hold ciphertext. The key id travels in the
 * metadata, in the clear but authenticated, so that rotated keys still decrypt old histories.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {
    const active = keyring.keys[keyring.activeKeyId]
    if (!Object.hasOwn(keyring.keys, keyring.activeKeyId) || active?.length !== KEY_BYTES) {
      throw new Error(`payload keyring has no ${KEY_BYTES}-byte active key`)
    }
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keyring.activeKeyId
    const key = this.keyring.keys[keyId]!
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      // The key id is authenticated: relabelling a payload with another id makes it undecryptable.
      cipher.setAAD(Buffer.from(keyId))
      const plain = ProtoPayload.encode(payload).finish()
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()])
      return {
        metadata: {
          encoding: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(keyId),
        },
        data: sealed,
      }
    })
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was enabled stay readable.
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload
      const keyId = text(payload.metadata?.[KEY_ID_METADATA])
      // The id comes from stored data: name it only once it is known to be a harmless id.
      if (!ID.test(keyId)) throw new Error('encrypted payload has a missing or malformed key id')
      if (!Object.hasOwn(this.keyring.keys, keyId)) {
        throw new Error(`encrypted payload uses unknown key id "${keyId}"`)
      }
      const data = Buffer.from(payload.data ?? [])
      if (data.length < IV_BYTES + TAG_BYTES) {
        throw new Error(`encrypted payload (key id "${keyId}") is truncated`)
      }
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.keyring.keys[keyId]!,
        data.subarray(0, IV_BYTES),
      )
      decipher.setAAD(Buffer.from(keyId))
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES))
      let plain: Buffer
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ])
      } catch {
        // GCM authentication failed: never hand back unauthenticated plaintext.
        throw new Error(`encrypted payload (key id "${keyId}") failed authentication`)
      }
      return ProtoPayload.toObject(ProtoPayload.decode(plain)) as Payload
    })
  }
}

/**
 * `codec`, refusing on decode any payload that is not encrypted: what the worker and the API's
 * client read from Temporal must come from a holder of the payload key, so nobody who merely
 * reaches the Temporal frontend can hand a case plaintext arguments. Only what Temporal itself
 * keeps in the clear never passes a codec (search attributes, headers, the SDK's own markers).
 * Such a payload decodes to `UNENCRYPTED_PAYLOAD`, which the workflows refuse (an Update is
 * rejected, a Signal dropped, a start failed): throwing here would fail the workflow task on
 * every attempt and leave the case stuck. The codec endpoint for operators keeps the lenient
 * `EncryptionCodec` (it shows any payload).
 */
const refusedPayload: Payload = {
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(UNENCRYPTED_PAYLOAD)),
}

export function refusingPlaintext(codec: PayloadCodec): PayloadCodec {
  return {
    encode: (payloads) => codec.encode(payloads),
    async decode(payloads) {
      // Security check: a payload without the encryption encoding was not written by us.
      const sealed = (p: Payload) => text(p.metadata?.encoding) === ENCRYPTED_ENCODING
      const opened = await codec.decode(payloads.filter(sealed))
      return payloads.map((p) => (sealed(p) ? opened.shift()! : refusedPayload))
    },
  }
}
