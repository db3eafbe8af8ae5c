import {
  Client,
  Connection,
  WorkflowUpdateFailedError,
  type Headers,
  type WorkflowClientInterceptor,
  type WorkflowHandle,
} from '@temporalio/client'
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { commandInterceptors, encryptedDataConverter } from '../../activities/infra/temporal-client'
import { parseKeyring, refusingPlaintext } from '../../activities/crypto/payload-codec'
import {
  COMMAND_PROOF_HEADER,
  signCommand,
  UNENCRYPTED_PAYLOAD,
} from '../../workflows/command-proof'
import {
  addNoteUpdate,
  caseWorkflowId,
  ErrorCode,
  grievanceViewQuery,
  type Actor,
} from '../../workflows/messages'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import { testCodec, testCommandKeys } from '../helpers/codec'
import type { TestDatabase } from '../helpers/db'
import { actor, grievanceInput } from '../helpers/fixtures'
import { commandRefusals, eventually, type RunningWorker } from '../helpers/temporal'

/**
 * Whoever reaches the Temporal frontend must not be able to act on a case as someone else
 * (issue 15, item 2): a command not issued by the API is refused with a stable code, recorded by
 * the worker, and changes nothing; the API's own commands still work.
 */

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let connection: Connection

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  connection = await Connection.connect({ address: inject('temporalAddress') })
})
afterAll(async () => {
  await connection?.close()
  await stopCaseStack({ tdb, client, worker })
})

/** A client as an attacker with the Temporal address (and even the payload key) would build. */
const rawClient = (interceptors: WorkflowClientInterceptor[] = [], plaintext = false) =>
  new Client({
    connection,
    namespace: inject('namespace'),
    dataConverter: plaintext ? undefined : encryptedDataConverter(testCodec),
    interceptors: { workflow: interceptors },
  })

const forgedManager: Actor = { userId: null, role: 'programme_manager', clearance: true }

const events = (caseId: string) =>
  tdb.db
    .selectFrom('caseEvents')
    .select(['seq', 'type', 'actorRole'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()

async function openGrievance() {
  const input = grievanceInput()
  const handle = await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  const agent = await actor(tdb.db, 'agent.kati.1', 'case_worker')
  // A genuine command (the test client signs as the API does): accepted once the case is open.
  await eventually(
    () =>
      handle
        .executeUpdate(addNoteUpdate, { args: [{ actor: agent, text: 'Appeler le soir.' }] })
        .catch(() => undefined),
    { what: 'a genuine note accepted' },
  )
  return { caseId: input.caseId, handle, agent }
}

/** What a user of the case would see: its events and its tasks. */
async function caseState(caseId: string, handle: WorkflowHandle) {
  const view = await handle.query(grievanceViewQuery)
  return { events: await events(caseId), tasks: view.tasks, notes: view.notes?.length }
}

async function refusedWith(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError)
  const cause = (error as WorkflowUpdateFailedError).cause
  expect(cause).toBeInstanceOf(ApplicationFailure)
  return cause as ApplicationFailure
}

/** Expects `send` refused as not issued by the API, recorded with `reason`, changing nothing. */
async function expectForgedRefused(
  caseId: string,
  handle: WorkflowHandle,
  send: () => Promise<unknown>,
  reason: string,
) {
  const before = await caseState(caseId, handle)
  const recorded = commandRefusals.length
  const failure = await refusedWith(send())
  expect(failure.type).toBe(ErrorCode.COMMAND_NOT_AUTHENTICATED)
  expect(failure.nonRetryable).toBe(true)
  expect(commandRefusals.slice(recorded)).toEqual([
    expect.objectContaining({
      workflowId: caseWorkflowId(caseId),
      kind: 'update',
      name: 'addNote',
      reason,
    }),
  ])
  // The record names the command, never its arguments (which may be personal).
  expect(JSON.stringify(commandRefusals.slice(recorded))).not.toContain('Note du')
  expect(await caseState(caseId, handle)).toEqual(before)
}

/** Captures the headers of the commands a client sends (after they are signed). */
function capturing(into: Headers[]): WorkflowClientInterceptor {
  return {
    async startUpdate(input, next) {
      into.push(input.headers)
      return await next(input)
    },
  }
}

/** Sends commands with `headers` in place of the client's own. */
function withHeaders(headers: () => Headers): WorkflowClientInterceptor {
  return {
    async startUpdate(input, next) {
      return await next({ ...input, headers: headers() })
    },
  }
}

describe('commands to a case need the API proof', () => {
  it('refuses a command sent without a proof, and records it', async () => {
    const { caseId, handle } = await openGrievance()
    const forged = rawClient().workflow.getHandle(caseWorkflowId(caseId))
    await expectForgedRefused(
      caseId,
      handle,
      () =>
        forged.executeUpdate(addNoteUpdate, {
          args: [{ actor: forgedManager, text: 'Note du directeur national' }],
        }),
      'missing',
    )
  })

  it('refuses a command signed with another key', async () => {
    const { caseId, handle } = await openGrievance()
    // Same key id as the API's, another secret: an attacker guessing or stealing the id only.
    const wrong = parseKeyring('testcmd:' + Buffer.alloc(32, 12).toString('base64'))
    const forged = rawClient(commandInterceptors(wrong).workflow).workflow.getHandle(
      caseWorkflowId(caseId),
    )
    await expectForgedRefused(
      caseId,
      handle,
      () =>
        forged.executeUpdate(addNoteUpdate, {
          args: [{ actor: forgedManager, text: 'Note du directeur national' }],
        }),
      'forged',
    )
  })

  it('refuses a genuine proof moved to other arguments (another actor)', async () => {
    const { caseId, handle, agent } = await openGrievance()
    const captured: Headers[] = []
    const api = rawClient([...commandInterceptors(testCommandKeys).workflow, capturing(captured)])
    await api.workflow
      .getHandle(caseWorkflowId(caseId))
      .executeUpdate(addNoteUpdate, { args: [{ actor: agent, text: 'Note du jour' }] })
    const forged = rawClient([withHeaders(() => captured[0]!)]).workflow.getHandle(
      caseWorkflowId(caseId),
    )
    await expectForgedRefused(
      caseId,
      handle,
      () =>
        forged.executeUpdate(addNoteUpdate, {
          args: [{ actor: forgedManager, text: 'Note du jour' }],
        }),
      'forged',
    )
  })

  it('refuses a genuine command replayed as it was captured', async () => {
    const { caseId, handle, agent } = await openGrievance()
    const captured: Headers[] = []
    const api = rawClient([...commandInterceptors(testCommandKeys).workflow, capturing(captured)])
    const args = [{ actor: agent, text: 'Note du jour' }] as [{ actor: Actor; text: string }]
    await api.workflow.getHandle(caseWorkflowId(caseId)).executeUpdate(addNoteUpdate, { args })
    const replayer = rawClient([withHeaders(() => captured[0]!)]).workflow.getHandle(
      caseWorkflowId(caseId),
    )
    await expectForgedRefused(
      caseId,
      handle,
      () => replayer.executeUpdate(addNoteUpdate, { args }),
      'replayed',
    )
  })

  it('refuses a proof older than the staleness window', async () => {
    const { caseId, handle } = await openGrievance()
    const args = [{ actor: forgedManager, text: 'Note du passé' }]
    const key = testCommandKeys.keys[testCommandKeys.activeKeyId]!
    const old = signCommand(testCommandKeys.activeKeyId, key, {
      workflowId: caseWorkflowId(caseId),
      message: 'addNote',
      args,
      at: Date.now() - 10 * 60_000,
      nonce: crypto.randomUUID(),
    })
    const forged = rawClient([
      withHeaders(() => ({ [COMMAND_PROOF_HEADER]: defaultPayloadConverter.toPayload(old) })),
    ]).workflow.getHandle(caseWorkflowId(caseId))
    await expectForgedRefused(
      caseId,
      handle,
      () => forged.executeUpdate(addNoteUpdate, { args: args as never }),
      'stale',
    )
  })

  it("accepts the API's own commands, recorded as the actor who sent them", async () => {
    const { caseId, handle, agent } = await openGrievance()
    const before = (await events(caseId)).length
    await handle.executeUpdate(addNoteUpdate, { args: [{ actor: agent, text: 'Deuxième note' }] })
    const after = await events(caseId)
    expect(after.length).toBe(before + 1)
    expect(after.at(-1)).toMatchObject({ type: 'case.note_added', actorRole: 'case_worker' })
  })
})

describe('payloads', () => {
  it('a case refuses a plaintext command (even with a valid proof) and keeps working', async () => {
    const { caseId, handle, agent } = await openGrievance()
    const plain = rawClient(commandInterceptors(testCommandKeys).workflow, true)
    await expectForgedRefused(
      caseId,
      handle,
      () =>
        plain.workflow.getHandle(caseWorkflowId(caseId)).executeUpdate(addNoteUpdate, {
          args: [{ actor: forgedManager, text: 'Note du faussaire' }],
        }),
      'unencrypted',
    )
    // The case still takes the API's commands (a decoding error would have left it stuck).
    const before = (await events(caseId)).length
    await handle.executeUpdate(addNoteUpdate, { args: [{ actor: agent, text: 'Après' }] })
    expect((await events(caseId)).length).toBe(before + 1)
  })

  it('the worker and client read an unencrypted payload as a refusal, encrypted ones as they are', async () => {
    const strict = refusingPlaintext(testCodec)
    const plain = defaultPayloadConverter.toPayload({ actor: forgedManager, text: 'en clair' })
    const [refused] = await strict.decode([plain])
    expect(defaultPayloadConverter.fromPayload(refused!)).toEqual(UNENCRYPTED_PAYLOAD)
    const sealed = await strict.encode([plain])
    const [opened] = await strict.decode(sealed)
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({
      actor: forgedManager,
      text: 'en clair',
    })
    // The operators' codec endpoint keeps showing whatever Temporal holds, plaintext included.
    expect(await testCodec.decode([plain])).toEqual([plain])
    await expect(strict.decode([plain])).resolves.not.toEqual([plain])
  })
})
