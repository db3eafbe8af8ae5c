import path from 'node:path'
import type { Config } from '../config'
import { firstLine, StartupError } from '../infra/errors'
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
