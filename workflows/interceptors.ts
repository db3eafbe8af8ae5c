import {
  ApplicationFailure,
  defaultPayloadConverter,
  proxySinks,
  workflowInfo,
  type Headers,
  type Sinks,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow'
import {
  checkCommandProof,
  COMMAND_PROOF_HEADER,
  COMMAND_PROOF_MAX_AGE_MS,
  commandKeysFromHex,
  isUnencryptedPayload,
  type CommandProof,
  type ProofRefusal,
} from './command-proof'
import { ErrorCode } from './messages'

/**
 * The verification keys (hex by id), compiled into the workflow bundle by the worker
 * (`commandKeysDefine` in activities/worker.ts): the same on every replay of a case, and never
 * part of anything a client can send. A bundle built without them refuses every command.
 */
declare const __RSU_COMMAND_KEYS__: Record<string, string> | undefined
const keys = commandKeysFromHex(
  typeof __RSU_COMMAND_KEYS__ === 'undefined' ? {} : __RSU_COMMAND_KEYS__,
)

/** What the worker records of a refused command: names and a reason, never its arguments. */
export interface CommandAuditSinks extends Sinks {
  commandAudit: {
    refused(event: { kind: 'update' | 'signal'; name: string; reason: ProofRefusal }): void
  }
}
const { commandAudit } = proxySinks<CommandAuditSinks>()

function proofOf(headers: Headers): unknown {
  const payload = headers[COMMAND_PROOF_HEADER]
  if (!payload) return undefined
  try {
    return defaultPayloadConverter.fromPayload(payload)
  } catch {
    return 'unreadable'
  }
}

/**
 * Refuses every Update and Signal that does not carry the API's proof (docs/security-commands.md):
 * whoever reaches the Temporal frontend could otherwise write any actor into a command's
 * arguments. Updates are refused in the validator path, which Temporal never runs on replay and
 * which leaves nothing in the history; a refused Signal is dropped. Nonces accepted by this run
 * are remembered (and rebuilt on replay by the handlers) for as long as their proof is not stale.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  const seen = new Map<string, number>()
  const remember = (proof: unknown, now: number) => {
    const p = proof as Partial<CommandProof> | undefined
    if (typeof p?.nonce === 'string' && typeof p.at === 'number') seen.set(p.nonce, p.at)
    // Bounded: a nonce older than the staleness window can no longer be replayed anyway.
    for (const [nonce, at] of seen) if (now - at > COMMAND_PROOF_MAX_AGE_MS) seen.delete(nonce)
  }
  const check = (kind: 'update' | 'signal', name: string, args: unknown[], headers: Headers) => {
    const proof = proofOf(headers)
    const now = Date.now()
    const reason = args.some(isUnencryptedPayload)
      ? 'unencrypted'
      : checkCommandProof(
          proof,
          keys,
          { workflowId: workflowInfo().workflowId, message: name, args, now },
          (nonce) => seen.has(nonce),
        )
    if (reason) commandAudit.refused({ kind, name, reason })
    return { reason, proof, now }
  }
  return {
    inbound: [
      {
        validateUpdate(input, next) {
          const { reason } = check('update', input.name, input.args, input.headers)
          // Security check: the actor in the arguments is believed only with the API's proof.
          if (reason)
            throw ApplicationFailure.create({
              type: ErrorCode.COMMAND_NOT_AUTHENTICATED,
              message: `The command was not issued by the API (${reason})`,
              nonRetryable: true,
            })
          next(input)
        },
        async execute(input, next) {
          // A start whose input was not encrypted was not ours: fail it, rather than run on it.
          if (input.args.some(isUnencryptedPayload))
            throw ApplicationFailure.create({
              type: ErrorCode.COMMAND_NOT_AUTHENTICATED,
              message: 'The case was started with an unencrypted input',
              nonRetryable: true,
            })
          return await next(input)
        },
        async handleUpdate(input, next) {
          // Runs live and on replay: the nonce memory is the same either way.
          remember(proofOf(input.headers), Date.now())
          return await next(input)
        },
        async handleSignal(input, next) {
          const { reason, proof, now } = check(
            'signal',
            input.signalName,
            input.args,
            input.headers,
          )
          if (reason) return
          remember(proof, now)
          await next(input)
        },
      },
    ],
  }
}
