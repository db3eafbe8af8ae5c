import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EncryptionCodec, parseKeyring } from '../../activities/crypto/payload-codec'
import { codecRoutes } from '../../api/routes/codec'

const UI_ORIGIN = 'http://localhost:8233'
const CANARY = "Le chef de village m'a demandé de l'argent — canary-7f3a"
const b64 = (text: string) => Buffer.from(text).toString('base64')

interface PayloadsJson {
  payloads: { metadata: Record<string, string>; data: string }[]
}

function setup() {
  const codec = new EncryptionCodec(parseKeyring(`k1:${randomBytes(32).toString('base64')}`))
  return { codec, app: codecRoutes({ codec, allowedOrigins: [UI_ORIGIN] }) }
}

const post = (app: ReturnType<typeof setup>['app'], path: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: UI_ORIGIN, 'x-namespace': 'default' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

const plain: PayloadsJson = {
  payloads: [
    { metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify({ narrative: CANARY })) },
    { metadata: { encoding: b64('binary/null') }, data: '' },
  ],
}

describe('the Temporal codec endpoint', () => {
  it('encodes and decodes payloads in the JSON protocol of the Web UI', async () => {
    const { app } = setup()
    const encodedResponse = await post(app, '/encode', plain)
    expect(encodedResponse.status).toBe(200)
    expect(encodedResponse.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN)
    const encoded = (await encodedResponse.json()) as PayloadsJson
    expect(encoded.payloads).toHaveLength(2)
    expect(encoded.payloads[0]!.metadata.encoding).toBe(b64('binary/encrypted'))
    expect(encoded.payloads[0]!.metadata['encryption-key-id']).toBe(b64('k1'))
    expect(Buffer.from(encoded.payloads[0]!.data, 'base64').includes('canary-7f3a')).toBe(false)

    const decodedResponse = await post(app, '/decode', encoded)
    expect(decodedResponse.status).toBe(200)
    expect(await decodedResponse.json()).toEqual(plain)
  })

  it('decodes what the SDK codec wrote, and passes unencrypted payloads through', async () => {
    const { app, codec } = setup()
    const [written] = await codec.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"ok"') },
    ])
    const body = {
      payloads: [
        {
          metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('k1') },
          data: Buffer.from(written!.data!).toString('base64'),
        },
        plain.payloads[0],
      ],
    }
    const response = await post(app, '/decode', body)
    expect(await response.json()).toEqual({
      payloads: [
        { metadata: { encoding: b64('json/plain') }, data: b64('"ok"') },
        plain.payloads[0],
      ],
    })
  })

  it.each([
    ['not JSON', '{"payloads": ['],
    ['no payloads', { items: [] }],
    ['data that is not base64', { payloads: [{ metadata: {}, data: 'not base64!' }] }],
    ['metadata that is not base64', { payloads: [{ metadata: { encoding: 42 }, data: '' }] }],
  ])('answers 400 INVALID_BODY to %s', async (_, body) => {
    const { app } = setup()
    const response = await post(app, '/decode', body)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'INVALID_BODY' } })
  })

  it('answers 422 CODEC_FAILED, naming the key id, when a payload cannot be decrypted', async () => {
    const { app } = setup()
    const encoded = (await (await post(app, '/encode', plain)).json()) as PayloadsJson
    const unknownKey = structuredClone(encoded)
    unknownKey.payloads[0]!.metadata['encryption-key-id'] = b64('retired')
    const tampered = structuredClone(encoded)
    const bytes = Buffer.from(tampered.payloads[0]!.data, 'base64')
    bytes[15]! ^= 0x01
    tampered.payloads[0]!.data = bytes.toString('base64')

    for (const [body, message] of [
      [unknownKey, /unknown key id "retired"/],
      [tampered, /"k1".*failed authentication/],
    ] as const) {
      const response = await post(app, '/decode', body)
      expect(response.status).toBe(422)
      const json = (await response.json()) as { error: { code: string; message: string } }
      expect(json.error.code).toBe('CODEC_FAILED')
      expect(json.error.message).toMatch(message)
      expect(json.error.message).not.toMatch(/\n|at .*\.ts/)
    }
  })

  it('answers a CORS preflight from the Temporal UI origin and no other', async () => {
    const { app } = setup()
    const preflight = (origin: string) =>
      app.request('/decode', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      })

    const allowed = await preflight(UI_ORIGIN)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN)
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true')
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST,OPTIONS')
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type,x-namespace')

    const other = await preflight('https://evil.example')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})
