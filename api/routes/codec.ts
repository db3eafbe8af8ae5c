import type { Payload, PayloadCodec } from '@temporalio/common'
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import { z } from 'zod'
import { firstLine } from '../../activities/infra/errors'
import { errorBody } from '../errors'

// Proto3 JSON bytes: standard or URL-safe base64, padding optional.
const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, { error: 'must be base64' })

/** The JSON form of Temporal Payloads, as the Web UI and the CLI send them. */
const PayloadsBody = z.object({
  payloads: z.array(
    z.object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() }),
  ),
})
type PayloadsJson = z.infer<typeof PayloadsBody>

const fromJson = ({ payloads }: PayloadsJson): Payload[] =>
  payloads.map(({ metadata = {}, data = '' }) => ({
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(data, 'base64'),
  }))

const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64')

const toJson = (payloads: Payload[]): PayloadsJson => ({
  payloads: payloads.map(({ metadata, data }) => ({
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, base64(value)]),
    ),
    data: base64(data),
  })),
})

/**
 * Temporal's remote codec server protocol (`POST /encode`, `POST /decode`), so that the Temporal
 * Web UI (`--ui-codec-endpoint …/api/temporal-codec`) shows an operator decrypted payloads while
 * the Temporal server itself only ever stores ciphertext (DESIGN §5). Browsers may call it only
 * from `allowedOrigins`. Decoding reveals case data: mount it behind operator authentication.
 */
export function codecRoutes(deps: { codec: PayloadCodec; allowedOrigins: string[] }) {
  const transform = (direction: 'encode' | 'decode') => async (c: Context) => {
    let json: unknown
    try {
      json = await c.req.json()
    } catch {
      return c.json(errorBody('INVALID_BODY', 'Body must be JSON'), 400)
    }
    const body = PayloadsBody.safeParse(json)
    if (!body.success) {
      const issue = body.error.issues[0]
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
      return c.json(errorBody('INVALID_BODY', `${where}${issue?.message ?? 'invalid body'}`), 400)
    }
    try {
      return c.json(toJson(await deps.codec[direction](fromJson(body.data))), 200)
    } catch (error) {
      // The codec's own messages name at most a key id; no stack trace leaves the server.
      return c.json(errorBody('CODEC_FAILED', `Cannot ${direction}: ${firstLine(error)}`), 422)
    }
  }
  return new Hono()
    .use(
      // The UI calls from the browser, with credentials when configured: only listed origins.
      cors({
        origin: deps.allowedOrigins,
        allowHeaders: ['content-type', 'x-namespace'],
        allowMethods: ['POST', 'OPTIONS'],
        credentials: true,
      }),
    )
    .post('/encode', transform('encode'))
    .post('/decode', transform('decode'))
}
