import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type { Headers, WorkflowClientInterceptor } from '@temporalio/client'
import { defaultPayloadConverter } from '@temporalio/common'
import type { Config } from '../config'
import { firstLine, StartupError } from '../infra/errors'
import { COMMAND_PROOF_HEADER, signCommand } from '../../workflows/command-proof'
import { loadOrCreateKeyring, parseKeyring, type Keyring } from './payload-codec'

/**
 * The command keys of this process: COMMAND_KEYS when set (`id:base64,…`, the first signs, all
 * verify; the API and every worker of a deployment share it), otherwise a key file created once
 * under DATA_DIR (the embedded default). Separate from the payload keys: a Temporal operator
 * who may decode payloads must not be able to issue commands.
 */
export async function loadCommandKeys(config: Config): Promise<Keyring> {
  try {
    return config.commandKeys
      ? parseKeyring(config.commandKeys)
      : await loadOrCreateKeyring(path.join(config.dataDir, 'command-keys.json'))
  } catch (error) {
    throw new StartupError('COMMAND_KEYS_INVALID', `command keys: ${firstLine(error)}`)
  }
}

/** The keys as the workflow bundle receives them (hex by id). */
export function commandKeysHex(keyring: Keyring): Record<string, string> {
  return Object.fromEntries(
    Object.entries(keyring.keys).map(([id, key]) => [id, Buffer.from(key).toString('hex')]),
  )
}

/**
 * Signs every command this client sends to a case (Updates, Update-with-Start, Signals,
 * Signal-with-Start) with the active command key: the workflow's interceptor refuses commands
 * without this proof, so that only the API (and the workers) can put an actor into a case.
 */
export function commandSigningInterceptor(keyring: Keyring): WorkflowClientInterceptor {
  const keyId = keyring.activeKeyId
  const key = keyring.keys[keyId]!
  const sign = (headers: Headers, workflowId: string, message: string, args: unknown[]) => {
    // The workflow hashes the arguments as it decodes them: JSON, so hash them as JSON sees them.
    const asJson = JSON.parse(JSON.stringify(args)) as unknown[]
    const proof = signCommand(keyId, key, {
      workflowId,
      message,
      args: asJson,
      at: Date.now(),
      nonce: randomUUID(),
    })
    return { ...headers, [COMMAND_PROOF_HEADER]: defaultPayloadConverter.toPayload(proof) }
  }
  return {
    async startUpdate(input, next) {
      const { workflowId } = input.workflowExecution
      return await next({
        ...input,
        headers: sign(input.headers, workflowId, input.updateName, input.args),
      })
    },
    async startUpdateWithStart(input, next) {
      const workflowId = input.workflowStartOptions.workflowId
      return await next({
        ...input,
        updateHeaders: sign(input.updateHeaders, workflowId, input.updateName, input.updateArgs),
      })
    },
    async signal(input, next) {
      const { workflowId } = input.workflowExecution
      return await next({
        ...input,
        headers: sign(input.headers, workflowId, input.signalName, input.args),
      })
    },
    async signalWithStart(input, next) {
      const { workflowId } = input.options
      return await next({
        ...input,
        headers: sign(input.headers, workflowId, input.signalName, input.signalArgs),
      })
    },
  }
}
