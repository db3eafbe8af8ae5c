import { z } from '@hono/zod-openapi'
import { commandBody } from '../../api/cases/commands'
import type { AddNoteCommand, CompleteTaskCommand, PauseSlaCommand } from '../../workflows/messages'

/**
 * Checked by `tsc` (npm run lint), not run: an API command body is tied to its Update's argument.
 * If `commandBody` stopped checking, the `@ts-expect-error` lines below would fail the lint.
 */

// The body is the argument without what the API adds itself (the actor, a task id from the path).
commandBody<AddNoteCommand>()(z.object({ text: z.string() }))
commandBody<CompleteTaskCommand, 'taskId'>()(z.object({ data: z.record(z.string(), z.unknown()) }))

// @ts-expect-error a field the Update does not take
commandBody<AddNoteCommand>()(z.object({ text: z.string(), pinned: z.boolean() }))

// @ts-expect-error a field the Update needs is missing
commandBody<PauseSlaCommand>()(z.object({}))

// @ts-expect-error a field of another type than the Update's
commandBody<PauseSlaCommand>()(z.object({ reason: z.string() }))
