import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { caseKinds } from '../../workflows/kinds'
import type { AppEnv } from '../auth/types'
import { errorResponses } from '../openapi'

const CaseKindSchema = z
  .object({
    kind: z.string(),
    stages: z.array(z.string()),
    /** The form of each task kind, as JSON Schema (what the workflow validates on completion). */
    taskForms: z.record(z.string(), z.record(z.string(), z.unknown())),
    /** Free-text fields by task kind: kept in the encrypted history only. */
    freeText: z.record(z.string(), z.array(z.string())),
  })
  .openapi('CaseKind')

const listRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['case-kinds'],
  summary: 'The case kinds, their stages and the forms of their tasks (from the kind registry)',
  responses: {
    200: {
      description: 'Every case kind',
      content: { 'application/json': { schema: z.array(CaseKindSchema) } },
    },
    ...errorResponses(401),
  },
})

// Computed once: the registry is code, it does not change while the process runs.
const described = Object.values(caseKinds).map((k) => ({
  kind: k.kind,
  stages: [...k.stages],
  taskForms: Object.fromEntries(
    Object.entries(k.forms).map(([task, form]) => [
      task,
      z.toJSONSchema(form, { unrepresentable: 'any' }) as Record<string, unknown>,
    ]),
  ),
  freeText: k.freeText as Record<string, string[]>,
}))

/**
 * The case kinds (DESIGN §3): read from the registry in `workflows/kinds/`, so that the console's
 * task forms and the API's documentation follow the workflows, never a hand-kept copy.
 */
export function caseKindsRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(listRoute, (c) => c.json(described, 200))
}
