import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'
import type { RoleCode } from '../../workflows/messages'
import { areasWithin } from '../access'
import { ApiError } from '../errors'
import type { UserAuditAction } from '../../activities/db/auth.table'
import type { AuthUser } from './types'

/** What a user may do, as far as granting goes: roles in areas, clearance, permissions. */
export interface Rights {
  roles: { role: RoleCode; areaCode: string }[]
  sensitiveClearance: boolean
  canExport: boolean
  canDecodePayloads: boolean
}

const key = (r: { role: string; areaCode: string }) => `${r.role} ${r.areaCode}`

/** The roles added and removed between two sets of rights. */
export function roleChanges(before: Rights['roles'], after: Rights['roles']) {
  const was = new Set(before.map(key))
  const now = new Set(after.map(key))
  return {
    added: after.filter((r) => !was.has(key(r))),
    removed: before.filter((r) => !now.has(key(r))),
  }
}

/** Whether two sets of rights differ in anything a grant could change. */
export function rightsDiffer(before: Rights, after: Rights): boolean {
  const { added, removed } = roleChanges(before.roles, after.roles)
  return (
    added.length > 0 ||
    removed.length > 0 ||
    before.sensitiveClearance !== after.sensitiveClearance ||
    before.canExport !== after.canExport ||
    before.canDecodePayloads !== after.canDecodePayloads
  )
}

const refused = (message: string) => new ApiError(403, 'GRANT_REFUSED', message)

/**
 * The rule of the most trusted systems in the field (issue 15 item 4): nobody changes their own
 * rights, and nobody grants beyond what they hold.
 * - Your own roles, areas, clearance and permissions are changed by someone else, always.
 * - Roles are granted and withdrawn only within the areas where you are an administrator.
 * - Clearance for sensitive cases, the export permission and the Temporal operator's permission
 *   are granted only by someone who holds them.
 * Withdrawing clearance or a permission is always allowed (to an administrator of the user).
 * Throws 403 `SELF_GRANT_REFUSED` or `GRANT_REFUSED`; `subjectId` is null for a new user.
 */
export async function assertGrantAllowed(
  db: Db,
  actor: AuthUser,
  subjectId: string | null,
  before: Rights,
  after: Rights,
): Promise<void> {
  if (!rightsDiffer(before, after)) return
  if (subjectId === actor.id) {
    throw new ApiError(
      403,
      'SELF_GRANT_REFUSED',
      'Your own roles, areas, clearance and permissions are changed by another administrator',
    )
  }
  const held = await db
    .selectFrom('users')
    .select(['canExport', 'canDecodePayloads'])
    .where('id', '=', actor.id)
    .executeTakeFirstOrThrow()
  if (after.sensitiveClearance && !before.sensitiveClearance && !actor.clearance) {
    throw refused('Only a holder of clearance for sensitive cases may grant it')
  }
  if (after.canExport && !before.canExport && !held.canExport) {
    throw refused('Only a holder of the export permission may grant it')
  }
  if (after.canDecodePayloads && !before.canDecodePayloads && !held.canDecodePayloads) {
    throw refused("Only a Temporal operator may grant the operator's permission")
  }
  const { added, removed } = roleChanges(before.roles, after.roles)
  const touched = [...new Set([...added, ...removed].map((r) => r.areaCode))]
  if (!touched.length) return
  const administered = actor.roles.filter((r) => r.role === 'administrator').map((r) => r.areaCode)
  const inScope = new Set(
    (await areasWithin(db, administered).where('d.code', 'in', touched).execute()).map(
      (r) => r.code,
    ),
  )
  const outside = touched.find((code) => !inScope.has(code))
  if (outside) {
    throw refused(
      `You administer no area containing ${outside}: roles there are not yours to change`,
    )
  }
}

/** A user's rights and profile as recorded before and after a change (never a secret). */
export async function userSnapshot(db: Db, userId: string) {
  const { rows } = await sql<Record<string, unknown>>`
    select u.username as "username", u.display_name as "displayName", u.email as "email",
      u.locale as "locale", u.languages as "languages", u.active as "active",
      u.on_leave as "onLeave", u.sensitive_clearance as "sensitiveClearance",
      u.can_export as "canExport", u.can_decode_payloads as "canDecodePayloads",
      u.totp_secret is not null as "totpEnrolled",
      coalesce((select json_agg(json_build_object('role', r.role_code, 'areaCode', r.area_code)
          order by r.role_code, r.area_code)
        from user_roles r where r.user_id = u.id), '[]'::json) as "roles"
    from users u where u.id = ${userId}`.execute(db)
  return rows[0] ?? null
}

/** Appends one event to `user_audit` (append-only: who, what, before, after). */
export async function recordUserChange(
  db: Db,
  event: {
    actorUserId: string | null
    subjectUserId: string
    action: UserAuditAction
    before: object | null
    after: object | null
  },
): Promise<void> {
  await db.insertInto('userAudit').values(event).execute()
}
