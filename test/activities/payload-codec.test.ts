import { randomBytes, randomUUID } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client, Connection } from '@temporalio/client'
import { defaultPayloadConverter, type Payload } from '@temporalio/common'
import proto from '@temporalio/proto'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  EncryptionCodec,
  generateKeySpec,
  loadOrCreateKeyring,
  parseKeyring,
  type Keyring,
} from '../../activities/crypto/payload-codec'

try {
  Runtime.install({ logger: new DefaultLogger('WARN') })
} catch {
  // Already installed by another test file in this process.
}

const CANARY = "Le chef de village m'a demandé de l'argent — canary-7f3a"
const key = () => randomBytes(32).toString('base64')
const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8')

function keyring(ids: string[]): Keyring {
  return parseKeyring(ids.map((id) => `${id}:${key()}`).join(','))
}

function samplePayloads(): Payload[] {
  return [
    defaultPayloadConverter.toPayload({ narrative: CANARY, caseId: 'G-1' }),
    defaultPayloadConverter.toPayload(null),
    defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
  ]
}

/** Every byte of a payload, metadata included. */
const bytesOf = (p: Payload) =>
  Buffer.concat([...Object.values(p.metadata ?? {}), p.data ?? new Uint8Array()])

/** A payload's metadata and data as hex, to compare Buffers with Uint8Arrays. */
const hexOf = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('hex')]),
  ),
  data: Buffer.from(p.data ?? []).toString('hex'),
})

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run()
  } catch (error) {
    if (error instanceof Error) return error
    throw error
  }
  throw new Error('expected a failure')
}

describe('EncryptionCodec', () => {
  it('round-trips payloads to the same values', async () => {
    const codec = new EncryptionCodec(keyring(['k1']))
    const original = samplePayloads()
    const decoded = await codec.decode(await codec.encode(original))
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      { narrative: CANARY, caseId: 'G-1' },
      null,
      new Uint8Array([0, 1, 2, 255]),
    ])
    expect(decoded.map(hexOf)).toEqual(original.map(hexOf))
  })

  it('leaves no plaintext in the encoded payloads and labels them with the key id', async () => {
    const codec = new EncryptionCodec(keyring(['k1']))
    const [encoded] = await codec.encode(samplePayloads())
    expect(utf8(encoded!.metadata!.encoding)).toBe('binary/encrypted')
    expect(utf8(encoded!.metadata!['encryption-key-id'])).toBe('k1')
    expect(bytesOf(encoded!).includes(CANARY)).toBe(false)
    expect(bytesOf(encoded!).includes('canary-7f3a')).toBe(false)
    expect(bytesOf(encoded!).includes('json/plain')).toBe(false)
    // A fresh IV each time: equal inputs do not give equal ciphertexts.
    const [again] = await codec.encode(samplePayloads())
    expect(Buffer.from(again!.data!).equals(Buffer.from(encoded!.data!))).toBe(false)
  })

  it('refuses a tampered ciphertext', async () => {
    const codec = new EncryptionCodec(keyring(['k1']))
    const [encoded] = await codec.encode(samplePayloads())
    const data = Buffer.from(encoded!.data!)
    data[20]! ^= 0x01
    const error = await failure(() => codec.decode([{ ...encoded!, data }]))
    expect(error.message).toMatch(/k1.*failed authentication/)
  })

  it('refuses a payload relabelled with another key id, even one holding the same key', async () => {
    // Both ids hold the same key, so only the authenticated key id can tell them apart.
    const shared = key()
    const codec = new EncryptionCodec(parseKeyring(`a:${shared},b:${shared}`))
    const [encoded] = await codec.encode(samplePayloads())
    const relabelled = {
      ...encoded!,
      metadata: { ...encoded!.metadata, 'encryption-key-id': Buffer.from('b') },
    }
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/)
    expect(await codec.decode([encoded!])).toHaveLength(1)
  })

  it('decodes old payloads after key rotation while encoding with the new key', async () => {
    const oldSpec = generateKeySpec('old')
    const before = new EncryptionCodec(parseKeyring(oldSpec))
    const written = await before.encode(samplePayloads())

    const after = new EncryptionCodec(parseKeyring(`${generateKeySpec('new')},${oldSpec}`))
    const decoded = await after.decode(written)
    expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual({
      narrative: CANARY,
      caseId: 'G-1',
    })
    const [fresh] = await after.encode(samplePayloads())
    expect(utf8(fresh!.metadata!['encryption-key-id'])).toBe('new')
    // The old keyring alone cannot read what the new key wrote.
    await expect(before.decode([fresh!])).rejects.toThrow(/unknown key id "new"/)
  })

  it('names an unknown key id, never the key', async () => {
    const spec = generateKeySpec('retired')
    const [encoded] = await new EncryptionCodec(parseKeyring(spec)).encode(samplePayloads())
    const error = await failure(() => new EncryptionCodec(keyring(['current'])).decode([encoded!]))
    expect(error.message).toContain('"retired"')
    expect(error.message).not.toContain(spec.split(':')[1])
  })

  it('passes payloads written before encryption through unchanged', async () => {
    const codec = new EncryptionCodec(keyring(['k1']))
    const plain = samplePayloads()
    expect(await codec.decode(plain)).toEqual(plain)
  })
})

describe('parseKeyring', () => {
  it('makes the first key active and keeps every key for decryption', () => {
    const ring = parseKeyring(` k2:${key()} , k1:${key()} `)
    expect(ring.activeKeyId).toBe('k2')
    expect(Object.keys(ring.keys)).toEqual(['k2', 'k1'])
    expect(ring.keys.k1).toHaveLength(32)
    expect(parseKeyring(generateKeySpec('2026-q3_a')).activeKeyId).toBe('2026-q3_a')
  })

  const short = randomBytes(16).toString('base64')
  const good = key()
  it.each([
    ['an empty spec', '', /empty/],
    ['a key of the wrong length', `k1:${short}`, /"k1" must be 32 bytes, got 16/],
    ['a duplicate id', `k1:${good},k1:${key()}`, /"k1" appears twice/],
    ['bad base64', `k1:${good.slice(0, -4)}!!!!`, /"k1" is not valid base64/],
    ['a key with no id', good, /entry 1 must be id:base64key/],
    ['an id with forbidden characters', `k 1:${good}`, /entry 1 must be id:base64key/],
    ['a too long id', `${'k'.repeat(33)}:${good}`, /entry 1 must be id:base64key/],
  ])('rejects %s with a one-line message that shows no key', (_, spec, message) => {
    const error = (() => {
      try {
        parseKeyring(spec)
      } catch (error) {
        return error as Error
      }
      throw new Error('spec was accepted')
    })()
    expect(error.message).toMatch(message)
    expect(error.message).not.toContain('\n')
    for (const material of [short, good, good.slice(0, 12)]) {
      expect(error.message).not.toContain(material)
    }
  })

  it('refuses to build a codec without an active key', () => {
    expect(() => new EncryptionCodec({ activeKeyId: 'x', keys: {} })).toThrow(/active key/)
  })
})

describe('loadOrCreateKeyring', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rsu-keyring-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('creates an owner-only keyring file once and reads the same keys afterwards', async () => {
    const file = path.join(dir, 'nested', 'keys', 'payload-keys.json')
    const first = await loadOrCreateKeyring(file)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(first.keys[first.activeKeyId]).toHaveLength(32)
    const second = await loadOrCreateKeyring(file)
    expect(second.activeKeyId).toBe(first.activeKeyId)
    expect(Buffer.from(second.keys[second.activeKeyId]!)).toEqual(
      Buffer.from(first.keys[first.activeKeyId]!),
    )
    // What one process encrypted, the next one (after a restart) decrypts.
    const encoded = await new EncryptionCodec(first).encode(samplePayloads())
    expect(await new EncryptionCodec(second).decode(encoded)).toHaveLength(3)
  })

  it('gives processes starting together one and the same key', async () => {
    const file = path.join(dir, 'race.json')
    const rings = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateKeyring(file)))
    const stored = JSON.parse(await readFile(file, 'utf8')) as { activeKeyId: string }
    for (const ring of rings) expect(ring.activeKeyId).toBe(stored.activeKeyId)
  })

  it('refuses a keyring file that other users can read', async () => {
    const file = path.join(dir, 'loose.json')
    await loadOrCreateKeyring(file)
    await chmod(file, 0o644)
    await expect(loadOrCreateKeyring(file)).rejects.toThrow(/accessible to other users/)
  })
})

describe('encryption with a real Temporal server', () => {
  it('runs a workflow while the server stores only ciphertext', async () => {
    const codec = new EncryptionCodec(keyring(['e2e']))
    const dataConverter = { payloadCodecs: [codec] }
    const address = inject('temporalAddress')
    const namespace = inject('namespace')
    const taskQueue = `codec-${randomUUID()}`
    const workflowId = `echo-${randomUUID()}`

    const connection = await Connection.connect({ address })
    const client = new Client({ connection, namespace, dataConverter })
    const workerConnection = await NativeConnection.connect({ address })
    const worker = await Worker.create({
      connection: workerConnection,
      namespace,
      taskQueue,
      dataConverter,
      workflowsPath: fileURLToPath(new URL('./fixtures/echo-workflow.ts', import.meta.url)),
    })
    try {
      const result = await worker.runUntil(
        client.workflow.execute('echo', {
          taskQueue,
          workflowId,
          args: [{ narrative: CANARY }],
        }),
      )
      expect(result).toBe(CANARY)

      const response = await client.workflowService.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId },
      })
      const { GetWorkflowExecutionHistoryResponse } = proto.temporal.api.workflowservice.v1
      const raw = Buffer.from(GetWorkflowExecutionHistoryResponse.encode(response).finish())
      for (const haystack of [raw, Buffer.from(JSON.stringify(response))]) {
        expect(haystack.includes(CANARY)).toBe(false)
        expect(haystack.includes('canary-7f3a')).toBe(false)
      }
      // Control: the input is in the history, encrypted, and decrypts to the narrative.
      const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes
      const input = started?.input?.payloads ?? []
      expect(input).toHaveLength(1)
      expect(utf8(input[0]!.metadata!.encoding)).toBe('binary/encrypted')
      const [decoded] = await codec.decode(input)
      expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ narrative: CANARY })
    } finally {
      await workerConnection.close()
      await connection.close()
    }
  })
})
