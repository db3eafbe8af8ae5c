import { generateKeySpec } from './payload-codec'

/**
 * `npm run keys:generate -- <id>`: prints a new payload key as `id:base64`. To rotate, put it
 * first in PAYLOAD_KEYS and keep the old keys after it: new payloads use the new key, old
 * histories stay readable.
 */
const id = process.argv[2] ?? `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`
process.stdout.write(`${generateKeySpec(id)}\n`)
