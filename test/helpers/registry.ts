import { randomUUID } from 'node:crypto'
import type { Client } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import { http, HttpResponse } from 'msw'
import nodemailer from 'nodemailer'
import { inject } from 'vitest'
import { createActivities } from '../../activities'
import type { Db } from '../../activities/db/db'
import { encryptedDataConverter } from '../../activities/infra/temporal-client'
import type { RegistryClient } from '../../activities/registry/client'
import {
  dciSearchRequestSchema,
  dciUpdateRequestSchema,
  type DciSearchResponse,
  type DciUpdateRequest,
  type DciUpdateResponse,
} from '../../activities/registry/dci'
import { testCipher, testCodec } from './codec'
import { quietTemporalRuntime, type RunningWorker } from './temporal'

export const REGISTRY_URL = 'http://registry.test/api'

export interface MockHousehold {
  id: string
  areaCode: string
  members: number
  povertyScore: number | null
  eligible: boolean | null
  programmes: string[]
}

/**
 * A DCI social registry at the network edge (msw): `POST /registry/sync/search` answers
 * `on-search` envelopes with group records, `POST /registry/sync/update` applies an update once
 * per transaction id (as a registry honouring idempotency does) and answers `on-update`.
 * `down(n)` makes the next n calls answer 503, as a registry that is down for a while.
 */
export function dciRegistry(households: MockHousehold[]) {
  const records = new Map(households.map((h) => [h.id, { ...h }]))
  const requests: { path: string; idempotencyKey: string | null; body: unknown }[] = []
  const applied = new Map<string, DciUpdateRequest>()
  let outage = 0
  let lostAnswers = 0
  let rejections = 0

  const envelope = (action: string) => ({
    version: '1.0.0',
    message_id: randomUUID(),
    message_ts: new Date().toISOString(),
    action,
    sender_id: 'social-registry',
    receiver_id: 'rsu-casework',
    status: 'succ' as const,
    total_count: 1,
    completed_count: 1,
  })

  const handlers = [
    http.post(`${REGISTRY_URL}/registry/sync/search`, async ({ request }) => {
      const body = await request.json()
      requests.push({ path: 'search', idempotencyKey: null, body })
      if (outage > 0) {
        outage -= 1
        return new HttpResponse(null, { status: 503 })
      }
      const parsed = dciSearchRequestSchema.safeParse(body)
      if (!parsed.success) return HttpResponse.json({ error: 'bad request' }, { status: 400 })
      const search = parsed.data.message.search_request[0]!
      const query = search.search_criteria.query as { type: string; value: string }
      const found = query.type === 'HOUSEHOLD_ID' ? records.get(query.value) : undefined
      const header = envelope('on-search')
      const answer: DciSearchResponse = {
        header,
        message: {
          transaction_id: parsed.data.message.transaction_id,
          correlation_id: randomUUID(),
          search_response: [
            found
              ? {
                  reference_id: search.reference_id,
                  timestamp: new Date().toISOString(),
                  status: 'succ',
                  data: {
                    version: '1.0.0',
                    reg_type: search.search_criteria.reg_type,
                    reg_record_type: 'ns:org:RegistryRecordType:Group',
                    reg_records: [
                      {
                        group_identifier: [
                          { identifier_type: 'HOUSEHOLD_ID', identifier_value: found.id },
                        ],
                        admin_area: { code: found.areaCode },
                        group_size: found.members,
                        poverty_score: found.povertyScore,
                        eligibility_status:
                          found.eligible === null
                            ? null
                            : found.eligible
                              ? 'eligible'
                              : 'not_eligible',
                        programme_enrolments: found.programmes.map((p) => ({ programme_code: p })),
                      },
                    ],
                  },
                }
              : {
                  reference_id: search.reference_id,
                  timestamp: new Date().toISOString(),
                  status: 'rjct',
                  status_reason_code: 'rjct.reference_id.invalid',
                },
          ],
        },
      }
      return HttpResponse.json(answer)
    }),
    http.post(`${REGISTRY_URL}/registry/sync/update`, async ({ request }) => {
      const body = await request.json()
      const key = request.headers.get('idempotency-key')
      requests.push({ path: 'update', idempotencyKey: key, body })
      if (outage > 0) {
        outage -= 1
        return new HttpResponse(null, { status: 503 })
      }
      const parsed = dciUpdateRequestSchema.safeParse(body)
      if (!parsed.success) return HttpResponse.json({ error: 'bad request' }, { status: 400 })
      const transaction = parsed.data.message.transaction_id
      if (rejections > 0) {
        rejections -= 1
        const answer: DciUpdateResponse = {
          header: { ...envelope('on-update'), status: 'rjct' },
          message: {
            transaction_id: transaction,
            update_response: [
              {
                reference_id: parsed.data.message.update_request[0]!.reference_id,
                status: 'rjct',
                status_reason_code: 'rjct.record.locked',
              },
            ],
          },
        }
        return HttpResponse.json(answer)
      }
      if (!applied.has(transaction)) {
        applied.set(transaction, parsed.data)
        for (const record of parsed.data.message.update_request[0]!.data.reg_records) {
          const id = record.group_identifier[0]!.identifier_value
          const current = records.get(id)
          if (current) {
            current.povertyScore = record.poverty_score ?? current.povertyScore
            current.eligible = record.eligibility_status
              ? record.eligibility_status === 'eligible'
              : current.eligible
          }
        }
      }
      if (lostAnswers > 0) {
        // Applied, but the answer never reaches the caller (a timeout, a dropped connection).
        lostAnswers -= 1
        return new HttpResponse(null, { status: 502 })
      }
      const header = envelope('on-update')
      const answer: DciUpdateResponse = {
        header,
        message: {
          transaction_id: transaction,
          correlation_id: `REG-${transaction.length}-${applied.size}`,
          update_response: [
            {
              reference_id: parsed.data.message.update_request[0]!.reference_id,
              timestamp: new Date().toISOString(),
              status: 'succ',
            },
          ],
        },
      }
      return HttpResponse.json(answer)
    }),
  ]

  return {
    handlers,
    records,
    requests,
    /** Updates applied, by transaction id (each applied once). */
    applied,
    updates: () => requests.filter((r) => r.path === 'update'),
    down(calls: number) {
      outage = calls
    },
    /** The next n updates are refused for good (a DCI `rjct` with a reason code). */
    reject(calls: number) {
      rejections = calls
    },
    /** The next n updates are applied, then answered 502. */
    loseAnswers(calls: number) {
      lostAnswers = calls
    },
  }
}

/**
 * The real worker (shared bundle) with activities reaching `registry` and starting workflows
 * through `client`, on a task queue of its own.
 */
export async function startRegistryWorker(
  db: Db,
  options: { registry?: RegistryClient; client: Client; taskQueue?: string },
): Promise<RunningWorker> {
  quietTemporalRuntime()
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') })
  const worker = await Worker.create({
    connection,
    namespace: inject('namespace'),
    taskQueue,
    activities: createActivities({
      db,
      mail: {
        transport: nodemailer.createTransport(inject('smtpUrl')),
        from: 'RSU Casework <no-reply@rsu.localhost>',
      },
      publicUrl: 'http://rsu.localhost',
      cipher: testCipher,
      registry: options.registry,
      temporal: { client: options.client, taskQueue },
    }),
    workflowBundle: { codePath: inject('workflowBundlePath') },
    dataConverter: encryptedDataConverter(testCodec),
  })
  const running = worker.run()
  return {
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      await connection.close()
    },
  }
}
