import { readFile } from 'node:fs/promises'
import { Client, Connection, type ConnectionOptions } from '@temporalio/client'
import { DefaultFailureConverter, type PayloadCodec } from '@temporalio/common'
import type { Config } from '../config'
import { commandSigningInterceptor } from '../crypto/command-signing'
import { refusingPlaintext, type Keyring } from '../crypto/payload-codec'
import { firstLine, StartupError } from './errors'

export type TemporalSettings = Pick<Config['temporal'], 'namespace' | 'tls' | 'apiKey'> & {
  address: string
}

/** TLS and API-key options shared by the client and the worker's native connection. */
export async function connectionOptions(settings: TemporalSettings) {
  const { tls, apiKey } = settings
  const read = async (file?: string) => (file ? await readFile(file) : undefined)
  let tlsOptions: ConnectionOptions['tls']
  if (tls) {
    const [crt, key, ca] = await Promise.all([
      read(tls.certPath),
      read(tls.keyPath),
      read(tls.caPath),
    ])
    tlsOptions = {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: ca,
      clientCertPair: crt && key ? { crt, key } : undefined,
    }
  }
  // An API key (Temporal Cloud) implies TLS.
  if (apiKey && !tlsOptions) tlsOptions = true
  return { address: settings.address, tls: tlsOptions, apiKey }
}

/**
 * Connects a Temporal client and checks that the namespace answers, within seconds: an unreachable
 * or misconfigured cluster is reported as one line instead of a hang.
 */
export async function connectClient(
  settings: TemporalSettings,
  options: { codec?: PayloadCodec; commandKeys?: Keyring; timeoutMs?: number } = {},
): Promise<Client> {
  const timeoutMs = options.timeoutMs ?? 5_000
  let connection: Connection
  try {
    connection = await Connection.connect({
      ...(await connectionOptions(settings)),
      connectTimeout: timeoutMs,
    })
  } catch (error) {
    throw new StartupError(
      'TEMPORAL_UNREACHABLE',
      `cannot reach Temporal at ${settings.address} within ${timeoutMs / 1000}s: ${firstLine(error)}`,
    )
  }
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeNamespace({ namespace: settings.namespace }),
    )
  } catch (error) {
    await connection.close()
    throw new StartupError(
      'TEMPORAL_UNREACHABLE',
      `Temporal at ${settings.address} did not answer for namespace "${settings.namespace}": ${firstLine(error)}`,
    )
  }
  return new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: options.codec ? encryptedDataConverter(options.codec) : undefined,
    interceptors: options.commandKeys ? commandInterceptors(options.commandKeys) : undefined,
  })
}

/** A client's interceptors signing its commands to cases (activities/crypto/command-signing.ts). */
export function commandInterceptors(commandKeys: Keyring) {
  return { workflow: [commandSigningInterceptor(commandKeys)] }
}

/**
 * Payloads encrypted by `codec`, and failure messages and stack traces too (they may quote what
 * a user typed): Temporal's history holds no plaintext, and plaintext payloads are refused on
 * decode (`refusingPlaintext`). Client and worker use the same.
 */
export function encryptedDataConverter(codec: PayloadCodec) {
  return {
    payloadCodecs: [refusingPlaintext(codec)],
    failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
  }
}
