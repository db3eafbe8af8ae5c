import { FieldCipher } from '../../activities/crypto/field-cipher'
import { EncryptionCodec, parseKeyring } from '../../activities/crypto/payload-codec'

/**
 * The payload key of the test suite. Public on purpose (it protects nothing real): recorded
 * histories in test/histories are encrypted with it, and the replay test decrypts them.
 */
export const TEST_PAYLOAD_KEYS = 'test2026:' + Buffer.alloc(32, 7).toString('base64')
export const testCodec = new EncryptionCodec(parseKeyring(TEST_PAYLOAD_KEYS))

/** The data key of the test suite (fields encrypted at rest), public for the same reason. */
export const TEST_DATA_KEYS = 'testdata:' + Buffer.alloc(32, 9).toString('base64')
export const testCipher = new FieldCipher(parseKeyring(TEST_DATA_KEYS))

/**
 * The command key of the test suite (the API's proof on commands to cases), public for the same
 * reason: the shared workflow bundle verifies with it and every test client signs with it.
 */
export const TEST_COMMAND_KEYS = 'testcmd:' + Buffer.alloc(32, 11).toString('base64')
export const testCommandKeys = parseKeyring(TEST_COMMAND_KEYS)
