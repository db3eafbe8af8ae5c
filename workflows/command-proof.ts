import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

/**
 * The proof that a command reaching a case was issued by the API (docs/security-commands.md):
 * an HMAC-SHA256, by a key the API and the workers hold, over the workflow id, the message name,
 * a hash of the arguments (which carry the actor), the time and a nonce. Pure and deterministic:
 * the API signs with it and the workflow sandbox verifies with it (no Node built-ins here).
 */

/** The Temporal header carrying the proof (headers are not payloads of the codec: in the clear). */
export const COMMAND_PROOF_HEADER = 'rsu-command-proof'
/** A proof older (or younger, clocks drift) than this, by workflow time, is refused as stale. */
export const COMMAND_PROOF_MAX_AGE_MS = 5 * 60_000

/** HMAC keys by id; the id travels in the proof so that keys can be rotated. */
export type CommandKeys = Readonly<Record<string, Uint8Array>>

export interface CommandProof {
  v: 1
  keyId: string
  /** Epoch milliseconds when the API signed. */
  at: number
  nonce: string
  /** HMAC-SHA256, hex. */
  mac: string
}

export type ProofRefusal =
  'unencrypted' | 'missing' | 'malformed' | 'unknown_key' | 'forged' | 'stale' | 'replayed'

/**
 * What the worker's codec hands the workflow in place of a payload that was not encrypted
 * (activities/crypto/payload-codec.ts `refusingPlaintext`): throwing there would fail the
 * workflow task again and again and leave the case stuck; this value is refused cleanly instead.
 */
export const UNENCRYPTED_PAYLOAD = { rsuRefused: 'unencrypted payload' } as const

export const isUnencryptedPayload = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (value as Record<string, unknown>).rsuRefused === UNENCRYPTED_PAYLOAD.rsuRefused

/**
 * JSON with sorted object keys, so that the API (before encoding) and the workflow (after
 * decoding) hash the same text. Values are taken as JSON sees them (the API passes its arguments
 * through a JSON round trip first: dates become strings, undefined members disappear).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

interface Signed {
  workflowId: string
  message: string
  args: unknown[]
  at: number
  nonce: string
}

function mac(key: Uint8Array, s: Signed): string {
  const argsHash = bytesToHex(sha256(utf8ToBytes(canonicalJson(s.args))))
  // Newline-separated: none of the fields can contain one (ids, names, hex, digits, a uuid).
  const text = ['rsu-command-v1', s.workflowId, s.message, argsHash, String(s.at), s.nonce]
  return bytesToHex(hmac(sha256, key, utf8ToBytes(text.join('\n'))))
}

/** The proof for one command (the API's side). */
export function signCommand(keyId: string, key: Uint8Array, command: Signed): CommandProof {
  return { v: 1, keyId, at: command.at, nonce: command.nonce, mac: mac(key, command) }
}

/** Compares two hex strings in time independent of where they differ. */
function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

const NONCE = /^[A-Za-z0-9-]{16,64}$/
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

/**
 * Why `proof` does not prove that the API issued this command now, or null when it does.
 * `seen` tells whether a nonce was already accepted by this case.
 */
export function checkCommandProof(
  proof: unknown,
  keys: CommandKeys,
  command: { workflowId: string; message: string; args: unknown[]; now: number },
  seen: (nonce: string) => boolean,
): ProofRefusal | null {
  if (proof === undefined || proof === null) return 'missing'
  const p = proof as Partial<CommandProof>
  if (
    p.v !== 1 ||
    typeof p.keyId !== 'string' ||
    !KEY_ID.test(p.keyId) ||
    typeof p.at !== 'number' ||
    !Number.isSafeInteger(p.at) ||
    typeof p.nonce !== 'string' ||
    !NONCE.test(p.nonce) ||
    typeof p.mac !== 'string'
  )
    return 'malformed'
  if (!Object.hasOwn(keys, p.keyId)) return 'unknown_key'
  const expected = mac(keys[p.keyId]!, { ...command, at: p.at, nonce: p.nonce })
  if (!sameHex(expected, p.mac)) return 'forged'
  if (Math.abs(command.now - p.at) > COMMAND_PROOF_MAX_AGE_MS) return 'stale'
  if (seen(p.nonce)) return 'replayed'
  return null
}

/** Keys from their hex form (how the worker hands them to the workflow bundle). */
export function commandKeysFromHex(hex: Record<string, string>): CommandKeys {
  return Object.fromEntries(Object.entries(hex).map(([id, key]) => [id, hexToBytes(key)]))
}
