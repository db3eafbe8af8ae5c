import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { FieldCipher } from '../../activities/crypto/field-cipher'
import type { Db } from '../../activities/db/db'
import type { Logger } from '../../activities/infra/logger'
import { clearFailures, createSignInGuard, lockedForSeconds, recordFailure } from '../auth/lockout'
import {
  authenticate,
  CSRF_HEADER,
  requireAuth,
  SESSION_COOKIE,
  type AuthDeps,
  type Authenticated,
} from '../auth/middleware'
import {
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblem,
  verifyPassword,
} from '../auth/passwords'
import {
  createApiToken,
  createSession,
  deleteOtherSessions,
  deleteSession,
  hashToken,
  loadAuthUser,
  SESSION_ABSOLUTE_MS,
} from '../auth/sessions'
import { clientAddress, createRateLimiter } from '../auth/throttle'
import { newTotpSecret, requiresTotp, totpStep, totpUri } from '../auth/totp'
import type { AppEnv, AuthUser } from '../auth/types'
import { ApiError, errorBody } from '../errors'
import { ErrorSchema } from '../openapi'

/** Sign-in attempts allowed per client address in SIGN_IN_WINDOW_MS, whatever the usernames. */
export const SIGN_IN_LIMIT = 20
export const SIGN_IN_WINDOW_MS = 5 * 60_000

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
})
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } })

const RoleSchema = z.object({
  role: z.enum(['case_worker', 'supervisor', 'programme_manager', 'administrator', 'partner']),
  areaCode: z.string(),
})
const UserSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    locale: z.enum(['fr', 'en']),
    roles: z.array(RoleSchema),
    clearance: z.boolean().openapi({ description: 'Designated focal point for sensitive cases' }),
    canDecodePayloads: z
      .boolean()
      .openapi({ description: 'Temporal operator: may decode workflow payloads (codec endpoint)' }),
  })
  .openapi('SignedInUser')
const MeSchema = UserSchema.extend({ via: z.enum(['session', 'token']) }).openapi('AuthUser')
const TotpState = z.enum(['not_required', 'required', 'enrolment_required'])

const SignInBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
})
const SignInAnswer = z.object({
  user: UserSchema,
  csrfToken: z.string().openapi({ description: `Send it as ${CSRF_HEADER} on every write` }),
  totp: TotpState,
  totpUri: z
    .string()
    .optional()
    .openapi({ description: 'otpauth:// URI to scan, when totp is enrolment_required' }),
})
const TotpBody = z.object({ code: z.string().regex(/^\d{6}$/, { error: 'must be 6 digits' }) })
const PasswordBody = z.object({
  currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  newPassword: z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH),
})

const session = [{ sessionCookie: [] }]
const sessionWrite = [{ sessionCookie: [], csrfHeader: [] }]

const signIn = createRoute({
  method: 'post',
  path: '/sign-in',
  tags: ['auth'],
  summary: 'Sign in with username and password; opens a browser session (cookie)',
  request: { body: { required: true, content: json(SignInBody) } },
  responses: {
    200: {
      description: 'Signed in; a second factor may still be owed',
      content: json(SignInAnswer),
    },
    400: errorResponse('Invalid body'),
    401: errorResponse('INVALID_CREDENTIALS: wrong username or password (the same answer)'),
    423: errorResponse(
      'ACCOUNT_LOCKED: after 5 consecutive failures from this address on this account, each ' +
        'further attempt from it waits (30 s, doubling up to 15 min; see Retry-After)',
    ),
    429: errorResponse(
      'TOO_MANY_REQUESTS from this address (20 per 5 min, or failures on 10 accounts in 15 min)',
    ),
  },
})

const totp = createRoute({
  method: 'post',
  path: '/totp',
  tags: ['auth'],
  summary: 'Pass the second factor (and confirm enrolment) with an authenticator code',
  security: sessionWrite,
  request: { body: { required: true, content: json(TotpBody) } },
  responses: {
    200: {
      description: 'Code accepted: the session is usable',
      content: json(
        z.object({
          totp: z.literal('passed'),
          user: UserSchema,
          csrfToken: z.string().openapi({
            description: `The session's new CSRF token (its id changed too): send it as ${CSRF_HEADER}`,
          }),
        }),
      ),
    },
    401: errorResponse('TOTP_CODE_INVALID, TOTP_CODE_REUSED or UNAUTHENTICATED'),
    403: errorResponse('CSRF_TOKEN_INVALID'),
    409: errorResponse('TOTP_NOT_REQUIRED for this user'),
    423: errorResponse('ACCOUNT_LOCKED'),
  },
})

const signOut = createRoute({
  method: 'post',
  path: '/sign-out',
  tags: ['auth'],
  summary: 'End this browser session',
  security: sessionWrite,
  responses: {
    204: { description: 'Signed out; the cookie is cleared' },
    401: errorResponse('UNAUTHENTICATED'),
    403: errorResponse('CSRF_TOKEN_INVALID'),
  },
})

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['auth'],
  summary: 'The signed-in user or system, with roles in areas',
  security: [...session, { bearerToken: [] }],
  responses: {
    200: { description: 'Who is calling', content: json(MeSchema) },
    401: errorResponse('UNAUTHENTICATED or TOTP_REQUIRED'),
  },
})

const password = createRoute({
  method: 'post',
  path: '/password',
  tags: ['auth'],
  summary: "Change one's password; every other session and every bearer token of the user ends",
  security: sessionWrite,
  request: { body: { required: true, content: json(PasswordBody) } },
  responses: {
    204: { description: 'Password changed' },
    400: errorResponse('VALIDATION_FAILED: the new password is too short or is the username'),
    401: errorResponse('UNAUTHENTICATED or TOTP_REQUIRED'),
    403: errorResponse('INVALID_CREDENTIALS (current password), CSRF_TOKEN_INVALID'),
    423: errorResponse('ACCOUNT_LOCKED'),
  },
})

/** How long a codec token lives at most (and never past the session that issued it). */
export const CODEC_TOKEN_MS = 8 * 3_600_000

const codecToken = createRoute({
  method: 'post',
  path: '/codec-token',
  tags: ['auth'],
  summary: 'A token for the Temporal CLI to decode payloads (operators, second factor passed)',
  description:
    'For `temporal workflow show --codec-endpoint …/api/temporal-codec --codec-auth "Bearer …"`. ' +
    'The token opens the codec endpoint only, ends with the session that issued it (sign-out, ' +
    'password change, deactivation) and after 8 hours at most. Issued tokens are audited.',
  security: sessionWrite,
  responses: {
    201: {
      description: 'The token, shown once',
      content: json(z.object({ token: z.string(), expiresAt: z.string() })),
    },
    401: errorResponse('UNAUTHENTICATED or TOTP_REQUIRED'),
    403: errorResponse('NOT_AN_OPERATOR, SESSION_REQUIRED or CSRF_TOKEN_INVALID'),
  },
})

/** The router's context: the user, and for its own routes the session behind it. */
type AuthRouterEnv = { Variables: AppEnv['Variables'] & { auth: Authenticated } }

const publicUser = ({
  id,
  username,
  displayName,
  locale,
  roles,
  clearance,
  canDecodePayloads,
}: AuthUser) => ({ id, username, displayName, locale, roles, clearance, canDecodePayloads })

const locked = (c: Context, seconds: number) => {
  c.header('Retry-After', String(seconds))
  return c.json(
    errorBody('ACCOUNT_LOCKED', 'Too many failed attempts: wait before trying again'),
    423,
  )
}

/**
 * Sign-in for people and the account rules around it, mounted at /api/auth: argon2id passwords;
 * sessions in an httpOnly SameSite=Lax cookie with a CSRF token for writes; 20 attempts per 5
 * minutes per client address; an account locked 15 minutes after 5 consecutive failures; a TOTP
 * second factor for supervisors, programme managers and administrators; sign-out; password change.
 */
export function authRoutes(deps: {
  db: Db
  now?: () => Date
  secureCookies: boolean
  /** Seals TOTP secrets at rest (the data keys); without it (some tests) they are kept as is. */
  cipher?: FieldCipher
  log?: Logger
  /** Other origins whose pages may write with a session (the console's, when elsewhere). */
  origins?: readonly string[]
}) {
  const { db } = deps
  const seal = (secret: string) => (deps.cipher ? deps.cipher.encrypt(secret) : secret)
  /** Reads a sealed secret, or a legacy one stored in clear before secrets were sealed. */
  const open = (stored: string) => (deps.cipher ? deps.cipher.decrypt(stored) : stored)
  /** A secret still in clear (enrolled before sealing) is sealed at its next use. */
  const sealAgain = (stored: string) =>
    deps.cipher && deps.cipher.keyIdOf(stored) === null ? seal(stored) : stored
  const now = deps.now ?? (() => new Date())
  const authDeps: AuthDeps = { db, now, origins: deps.origins }
  const cookie = {
    path: '/api',
    httpOnly: true,
    sameSite: 'Lax',
    secure: deps.secureCookies,
  } as const
  const limiter = createRateLimiter({ limit: SIGN_IN_LIMIT, windowMs: SIGN_IN_WINDOW_MS, now })
  const guard = createSignInGuard({
    now,
    // Noticed by operators; no username and no address in the line (personal data).
    onSpraying: (event) =>
      deps.log?.warn(event, 'password spraying suspected: an address held back'),
  })

  // Authentication runs before the body is validated: a stranger learns nothing from a 400.
  const signedIn =
    (opts: { allowPendingTotp?: boolean } = {}): MiddlewareHandler<AuthRouterEnv> =>
    async (c, next) => {
      const auth = await authenticate(c, authDeps, opts)
      c.set('user', auth.user)
      c.set('auth', auth)
      await next()
    }

  const app = new OpenAPIHono<AuthRouterEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError(
          400,
          'VALIDATION_FAILED',
          'The request is not valid',
          result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        )
      }
    },
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'sessionCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'csrfHeader', {
    type: 'apiKey',
    in: 'header',
    name: CSRF_HEADER,
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerToken', {
    type: 'http',
    scheme: 'bearer',
  })

  return app
    .openapi(
      {
        ...signIn,
        // Counted before the body is even read: guessing from one address is slowed down
        // whatever the usernames tried (the lockout covers guessing one account from many).
        middleware: [
          async (c, next) => {
            const verdict = limiter.hit(clientAddress(c))
            if (!verdict.allowed) {
              c.header('Retry-After', String(verdict.retryAfterSeconds))
              return c.json(
                errorBody('TOO_MANY_REQUESTS', 'Too many sign-in attempts: wait and try again'),
                429,
              )
            }
            await next()
          },
        ] as const,
      },
      async (c) => {
        const { username, password } = c.req.valid('json')
        const at = now()
        const address = clientAddress(c)
        c.header('Cache-Control', 'no-store')
        // Held back even for the right password: that is what stops guessing one account. Only
        // this address is held back on this account: its owner, elsewhere, still signs in.
        const wait = guard.waitFor(username, address)
        if (wait?.spraying) {
          c.header('Retry-After', String(wait.seconds))
          return c.json(
            errorBody('TOO_MANY_REQUESTS', 'Too many failed sign-ins on several accounts: wait'),
            429,
          )
        }
        if (wait) return locked(c, wait.seconds)

        const key = username.trim().toLowerCase()
        const row = await db
          .selectFrom('users')
          .select(['id', 'username', 'passwordHash', 'active', 'totpSecret'])
          .where((eb) => eb(eb.fn('lower', ['username']), '=', key))
          .executeTakeFirst()
        // Unknown, inactive and wrong password all verify a hash and answer alike (no oracle).
        const ok = await verifyPassword(row?.active ? row.passwordHash : null, password)
        const user = ok && row ? await loadAuthUser(db, row.id, 'session') : null
        if (!row || !user) {
          guard.failed(username, address)
          throw new ApiError(401, 'INVALID_CREDENTIALS', 'Wrong username or password')
        }
        guard.succeeded(username, address)

        const totpNeeded = requiresTotp(user)
        // A new session, never the one the browser came with (no session fixation).
        const previous = getCookie(c, SESSION_COOKIE)
        if (previous) await deleteSession(db, hashToken(previous))
        // An enrolment belongs to this session alone: its own new secret, sealed at rest. A second
        // sign-in before the first code gets another secret, and only one can be confirmed.
        const enrolSecret = totpNeeded && !row.totpSecret ? newTotpSecret() : null
        const created = await createSession(db, {
          userId: user.id,
          totpPassed: !totpNeeded,
          now: at,
          totpPendingSecret: enrolSecret === null ? null : seal(enrolSecret),
        })
        setCookie(c, SESSION_COOKIE, created.token, {
          ...cookie,
          maxAge: SESSION_ABSOLUTE_MS / 1000,
        })

        let state: z.infer<typeof TotpState> = 'not_required'
        let uri: string | undefined
        if (totpNeeded && row.totpSecret) state = 'required'
        else if (enrolSecret !== null) {
          state = 'enrolment_required'
          uri = totpUri(enrolSecret, user.username)
        }
        return c.json(
          {
            user: publicUser(user),
            csrfToken: created.csrfToken,
            totp: state,
            ...(uri ? { totpUri: uri } : {}),
          },
          200,
        )
      },
    )
    .openapi(
      { ...totp, middleware: [signedIn({ allowPendingTotp: true })] as const },
      async (c) => {
        const { user, session, totpRequired } = c.get('auth')
        const { code } = c.req.valid('json')
        const at = now()
        if (!session || !totpRequired) {
          throw new ApiError(409, 'TOTP_NOT_REQUIRED', 'This account signs in without a code')
        }
        // Codes are guessable in a million tries: wrong ones count towards the account lockout.
        const lockedFor = await lockedForSeconds(db, user.username, at)
        if (lockedFor !== null) return locked(c, lockedFor)
        const adb = db
        const row = await adb
          .selectFrom('users')
          .innerJoin('sessions', 'sessions.userId', 'users.id')
          .select(['users.totpSecret', 'sessions.totpPendingSecret'])
          .where('users.id', '=', user.id)
          .where('sessions.id', '=', session.id)
          .executeTakeFirstOrThrow()
        // Enrolled: the account's secret. Enrolling: the one this session showed, no other's.
        const stored = row.totpSecret ?? row.totpPendingSecret
        const secret = stored === null ? null : open(stored)
        const step = secret ? totpStep(secret, code, at) : null
        if (!stored || step === null) {
          await recordFailure(db, user.username, at)
          throw new ApiError(401, 'TOTP_CODE_INVALID', 'Wrong or expired code')
        }
        // A code seen once (over a shoulder, by a phishing page) must not open a session again:
        // only a later time step than the last accepted one passes, atomically; an enrolment is
        // confirmed only while the account has no secret yet (another session may have won).
        const enrolling = row.totpSecret === null
        const accepted = await adb
          .updateTable('users')
          .set({
            totpSecret: enrolling ? stored : sealAgain(stored),
            totpPendingSecret: null,
            totpLastStep: step,
          })
          .where('id', '=', user.id)
          .where((eb) =>
            eb.and([
              eb.or([eb('totpLastStep', 'is', null), eb('totpLastStep', '<', step)]),
              enrolling ? eb('totpSecret', 'is', null) : eb('totpSecret', '=', stored),
            ]),
          )
          .returning('id')
          .executeTakeFirst()
        if (!accepted) {
          throw new ApiError(
            401,
            'TOTP_CODE_REUSED',
            'This code was already used (or another sign-in enrolled first): wait for the next',
          )
        }
        // The session that passed the second factor gets a new id and CSRF token: whoever saw
        // the half-open one (after the password, before the code) holds nothing.
        await deleteSession(db, session.id)
        const rotated = await createSession(db, { userId: user.id, totpPassed: true, now: at })
        setCookie(c, SESSION_COOKIE, rotated.token, {
          ...cookie,
          maxAge: SESSION_ABSOLUTE_MS / 1000,
        })
        await clearFailures(db, user.username)
        // A second factor enrolled is a change of the account's credentials: audited.
        if (enrolling) {
          await adb
            .insertInto('userAudit')
            .values({
              actorUserId: user.id,
              subjectUserId: user.id,
              action: 'totp_enrolled',
              before: { totpEnrolled: false },
              after: { totpEnrolled: true },
            })
            .execute()
        }
        c.header('Cache-Control', 'no-store')
        return c.json(
          { totp: 'passed' as const, user: publicUser(user), csrfToken: rotated.csrfToken },
          200,
        )
      },
    )
    .openapi(
      { ...signOut, middleware: [signedIn({ allowPendingTotp: true })] as const },
      async (c) => {
        const { session } = c.get('auth')
        if (session) await deleteSession(db, session.id)
        deleteCookie(c, SESSION_COOKIE, cookie)
        return c.body(null, 204)
      },
    )
    .openapi({ ...me, middleware: [requireAuth(authDeps)] as const }, (c) =>
      c.json(c.get('user'), 200),
    )
    .openapi({ ...password, middleware: [signedIn()] as const }, async (c) => {
      const { user, session } = c.get('auth')
      const { currentPassword, newPassword } = c.req.valid('json')
      const at = now()
      if (!session) {
        throw new ApiError(403, 'SESSION_REQUIRED', 'Passwords are changed in a browser session')
      }
      // A stolen session must not become a way to guess the password.
      const lockedFor = await lockedForSeconds(db, user.username, at)
      if (lockedFor !== null) return locked(c, lockedFor)
      const row = await db
        .selectFrom('users')
        .select('passwordHash')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow()
      if (!(await verifyPassword(row.passwordHash, currentPassword))) {
        await recordFailure(db, user.username, at)
        throw new ApiError(403, 'INVALID_CREDENTIALS', 'The current password is wrong')
      }
      const problem = passwordProblem(user.username, newPassword)
      if (problem) {
        throw new ApiError(400, 'VALIDATION_FAILED', problem, [
          { path: 'newPassword', message: problem },
        ])
      }
      const passwordHash = await hashPassword(newPassword)
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('users').set({ passwordHash }).where('id', '=', user.id).execute()
        // A new password ends every bearer token of the account too (a leak is the usual reason).
        const revokedAt = now()
        const revoked = await trx
          .updateTable('apiTokens')
          .set({ revokedAt })
          .where('userId', '=', user.id)
          .where('revokedAt', 'is', null)
          .returning(['id', 'name'])
          .execute()
        if (revoked.length) {
          await trx
            .insertInto('userAudit')
            .values(
              revoked.map((t) => ({
                actorUserId: user.id,
                subjectUserId: user.id,
                action: 'token_revoked' as const,
                before: { tokenId: t.id, name: t.name },
                after: {
                  tokenId: t.id,
                  revokedAt: revokedAt.toISOString(),
                  why: 'password_changed',
                },
              })),
            )
            .execute()
        }
        await trx
          .insertInto('userAudit')
          .values({
            actorUserId: user.id,
            subjectUserId: user.id,
            action: 'password_changed',
            before: null,
            after: { otherSessionsEnded: true },
          })
          .execute()
      })
      // Whoever else holds a session (perhaps the reason for the change) is signed out, and the
      // codec tokens those sessions issued end with them.
      await deleteOtherSessions(db, user.id, session.id)
      await clearFailures(db, user.username)
      return c.body(null, 204)
    })
    .openapi({ ...codecToken, middleware: [signedIn()] as const }, async (c) => {
      const { user, session } = c.get('auth')
      if (!session) {
        throw new ApiError(403, 'SESSION_REQUIRED', 'Codec tokens are issued to a browser session')
      }
      // signedIn() already refused a session whose second factor is owed (operators owe one).
      if (!user.canDecodePayloads) {
        throw new ApiError(403, 'NOT_AN_OPERATOR', 'Decoding payloads is for Temporal operators')
      }
      const at = now()
      const expiresAt = new Date(
        Math.min(at.getTime() + CODEC_TOKEN_MS, session.expiresAt.getTime()),
      )
      const { token } = await createApiToken(db, {
        name: `temporal codec (${user.username})`,
        userId: user.id,
        actorUserId: user.id,
        scope: 'temporal_codec',
        expiresAt,
        sessionId: session.id,
      })
      c.header('Cache-Control', 'no-store')
      return c.json({ token, expiresAt: expiresAt.toISOString() }, 201)
    })
}
