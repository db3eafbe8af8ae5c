import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { FieldCipher } from '../../activities/crypto/field-cipher'
import type { Db } from '../../activities/db/db'
import { setPartnerWebhook } from '../../activities/referrals/activities'
import {
  checkWebhookUrl,
  STRICT_WEBHOOKS,
  WebhookTargetError,
  type WebhookPolicy,
} from '../../activities/referrals/webhook-target'
import type { AppEnv } from '../auth/types'
import { ApiError } from '../errors'
import { idempotency } from '../idempotency'
import { validationHook } from '../lists'
import { errorResponses, IdempotencyHeader } from '../openapi'
import { requireRole } from './reference/shared'

const WebhookSchema = z
  .object({
    partnerCode: z.string(),
    /** Where `referral.routed` events are POSTed; null: no webhook. */
    url: z.string().nullable(),
    /** Whether a signing secret is set (it is never shown again). */
    hasSecret: z.boolean(),
  })
  .openapi('PartnerWebhook')

const WebhookInput = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .nullable(),
    /** The HMAC-SHA256 signing secret shared with the partner; stored encrypted. */
    secret: z.string().min(24).max(200).optional(),
  })
  .refine((w) => w.url === null || w.secret, {
    message: 'a webhook needs its signing secret',
    path: ['secret'],
  })
  .openapi('PartnerWebhookInput')

const CodeParam = z.object({
  code: z.string().openapi({ param: { name: 'code', in: 'path' }, example: 'pam' }),
})

const getRoute = createRoute({
  method: 'get',
  path: '/{code}/webhook',
  tags: ['partners'],
  summary: "A partner's referral webhook (administrators)",
  middleware: [requireRole('administrator')],
  request: { params: CodeParam },
  responses: {
    200: { description: 'The webhook', content: { 'application/json': { schema: WebhookSchema } } },
    ...errorResponses(401, 403, 404),
  },
})

/**
 * A partner's referral webhook (DESIGN §4): administrators set the URL (https outside the
 * embedded default, a public host, on the allow-list when one is configured) and the signing secret,
 * which is encrypted at rest with the field cipher and never shown again. The API needs the data
 * keys for that (`cipher`); without them it answers 503 and changes nothing.
 */
export function partnerWebhookRoutes({
  db,
  cipher,
  policy = STRICT_WEBHOOKS,
}: {
  db: Db
  cipher?: FieldCipher
  policy?: WebhookPolicy
}) {
  const putRoute = createRoute({
    method: 'put',
    path: '/{code}/webhook',
    tags: ['partners'],
    summary: "Set or remove a partner's referral webhook (administrators)",
    middleware: [requireRole('administrator'), idempotency({ db })],
    request: {
      params: CodeParam,
      headers: IdempotencyHeader,
      body: { required: true, content: { 'application/json': { schema: WebhookInput } } },
    },
    responses: {
      200: {
        description: 'The webhook',
        content: { 'application/json': { schema: WebhookSchema } },
      },
      ...errorResponses(401, 403, 404, 422, 503),
    },
  })
  const load = async (code: string) => {
    const row = await db
      .selectFrom('partners')
      .select(['code', 'webhookUrl', 'webhookSecret'])
      .where('code', '=', code)
      .executeTakeFirst()
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'Partner not found')
    return { partnerCode: row.code, url: row.webhookUrl, hasSecret: row.webhookSecret !== null }
  }
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(getRoute, async (c) => c.json(await load(c.req.valid('param').code), 200))
    .openapi(putRoute, async (c) => {
      const code = c.req.valid('param').code
      const body = c.req.valid('json')
      await load(code)
      // Refused when saved, and checked again (with DNS) at every delivery by the worker.
      if (body.url) {
        try {
          checkWebhookUrl(body.url, policy)
        } catch (error) {
          if (!(error instanceof WebhookTargetError)) throw error
          throw new ApiError(422, error.code, `Webhook URL refused: ${error.message}`, [
            { path: 'url', message: error.message },
          ])
        }
      }
      if (!cipher) {
        throw new ApiError(503, 'NOT_CONFIGURED', 'The API has no data key to store the secret')
      }
      await setPartnerWebhook(
        db,
        cipher,
        code,
        body.url ? { url: body.url, secret: body.secret! } : null,
      )
      return c.json(await load(code), 200)
    })
}
