import path from 'node:path'
import type { Config } from '../config'
import { firstLine, StartupError } from '../infra/errors'
import { FieldCipher } from './field-cipher'
import { EncryptionCodec, loadOrCreateKeyring, parseKeyring } from './payload-codec'

/**
 * The payload codec of this process: PAYLOAD_KEYS when set (every API and worker process of a
 * deployment must share it), otherwise a key file created once under DATA_DIR (the embedded
 * default: one machine, cases readable across restarts).
 */
export async function loadPayloadCodec(config: Config): Promise<EncryptionCodec> {
  try {
    const keyring = config.payloadKeys
      ? parseKeyring(config.payloadKeys)
      : await loadOrCreateKeyring(path.join(config.dataDir, 'payload-keys.json'))
    return new EncryptionCodec(keyring)
  } catch (error) {
    throw new StartupError('PAYLOAD_KEYS_INVALID', `payload encryption keys: ${firstLine(error)}`)
  }
}

/**
 * The cipher of sensitive fields at rest: DATA_KEYS when set (`id:base64,…`, the first encrypts;
 * every process of a deployment needs the same), otherwise a key file created once in DATA_DIR.
 * Separate from the payload keys: each can be rotated on its own.
 */
export async function loadFieldCipher(config: Config): Promise<FieldCipher> {
  try {
    const keyring = config.dataKeys
      ? parseKeyring(config.dataKeys)
      : await loadOrCreateKeyring(path.join(config.dataDir, 'data-keys.json'))
    return new FieldCipher(keyring)
  } catch (error) {
    throw new StartupError('DATA_KEYS_INVALID', `data encryption keys: ${firstLine(error)}`)
  }
}
