import { generateKeySpec } from './payload-codec'

/**
 * `npm run keys:generate -- <id>`: prints a new key as `id:base64`, for PAYLOAD_KEYS, DATA_KEYS
 * or COMMAND_KEYS. To rotate, put it first and keep the old keys after it: new payloads use the
 * new key, old histories stay readable (command keys: keep the old one 5 minutes, docs/security-commands.md).
 */
const id = process.argv[2] ?? `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`
process.stdout.write(`${generateKeySpec(id)}\n`)
