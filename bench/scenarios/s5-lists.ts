import { Client, Connection } from '@temporalio/client'
import { CamelCasePlugin, Kysely, sql } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres from 'postgres'
import type { Database } from '../../activities/db/schema'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { categoryCodes } from '../../workflows/forms'
import type { Bench } from '../lib/harness'
import type { DriveResult } from '../lib/drive'
import type { HttpGetResult } from '../lib/generator'
import type { ScenarioContext } from '../lib/report'
import { ratio, type Sizes } from './common'

type Statement = { sql: string; params: unknown[] }

/** Fills the read model with `rows` synthetic cases (SQL only: no workflow behind them). */
async function generateCases(b: Bench, rows: number, log: (line: string) => void) {
  const batch = 200_000
  for (let from = 1; from <= rows; from += batch) {
    const to = Math.min(rows, from + batch - 1)
    await sql`
      with communes as (
        select array_agg(code order by code) as codes from admin_areas where level = 'commune'
      )
      insert into cases (id, workflow_id, kind, status, stage, area_code, category, priority,
        channel, sensitive, sla_state, resolve_due_at, escalation_level, opened_at, closed_at,
        last_event_seq, updated_at)
      select 'S5-' || g, 'case-S5-' || g, 'grievance',
        case when g % 10 < 3 then 'open' else 'closed' end,
        case when g % 10 < 3
          then (array['triage', 'investigation', 'approval', 'appeal_window'])[1 + g % 4]
          else 'closed' end,
        communes.codes[1 + g % array_length(communes.codes, 1)],
        (${[...categoryCodes]}::text[])[1 + (g / 7) % ${categoryCodes.length}],
        (array['low', 'normal', 'high', 'urgent'])[1 + g % 4],
        (array['hotline', 'sms', 'web', 'in_person', 'community_committee', 'email'])[1 + g % 6],
        g % 50 = 0,
        case when g % 10 < 3 then (array['on_track', 'at_risk', 'breached'])[1 + (g / 3) % 3]
          else (array['met', 'met', 'met', 'breached'])[1 + (g / 3) % 4] end,
        now() + ((g % 1440) - 720) * interval '1 hour',
        case when g % 10 < 3 then g % 3 else 0 end,
        now() - (g % 525600) * interval '1 minute',
        case when g % 10 < 3 then null else now() - (g % 525600) * interval '1 minute' + interval '10 days' end,
        1, now()
      from generate_series(${from}::int, ${to}::int) as g, communes`.execute(b.db)
    log(`S5: ${to} case rows`)
  }
  await sql`analyze cases`.execute(b.db)
}

/**
 * An in-process copy of the API whose database records every statement and whose Temporal
 * connection counts every call: what one request costs in SQL, and proof it never asks Temporal.
 */
async function instrumentedApp(b: Bench) {
  const captured: Statement[] = []
  const pg = postgres(b.stack.databaseUrl, { max: 2, onnotice: () => {} })
  const db = new Kysely<Database>({
    dialect: new PostgresJSDialect({ postgres: pg }),
    plugins: [new CamelCasePlugin()],
    log: (event) => {
      if (event.level === 'query')
        captured.push({ sql: event.query.sql, params: [...event.query.parameters] })
    },
  })
  const temporalCalls: string[] = []
  const connection = await Connection.connect({ address: b.stack.temporal.address })
  for (const name of ['workflowService', 'operatorService', 'healthService'] as const) {
    const real: object = connection[name]
    const counted = new Proxy(real, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          temporalCalls.push(`${name}.${String(prop)}`)
          return Reflect.apply(value, target, args)
        }
      },
    })
    Object.defineProperty(connection, name, { value: counted })
  }
  const app = createApp({
    db,
    temporal: new Client({ connection }),
    log: createLogger('silent', false),
    taskQueue: b.taskQueue,
  })
  return {
    async request(path: string, token: string) {
      captured.length = 0
      temporalCalls.length = 0
      const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } })
      await res.text()
      return { status: res.status, statements: [...captured], temporalCalls: [...temporalCalls] }
    },
    async close() {
      await db.destroy()
      await connection.close()
    },
  }
}

/** EXPLAIN ANALYZE of a statement: the scans it uses and its execution time. */
async function explain(b: Bench, s: Statement) {
  const pg = postgres(b.stack.databaseUrl, { max: 1, onnotice: () => {} })
  try {
    const rows = await pg.unsafe<
      { 'QUERY PLAN': { Plan: PlanNode; 'Execution Time': number }[] }[]
    >(`explain (analyze, format json) ${s.sql}`, s.params as never[])
    const plan = rows[0]!['QUERY PLAN'][0]!
    const scans: string[] = []
    const walk = (node: PlanNode) => {
      if (/Scan/.test(node['Node Type']))
        scans.push(
          `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}${node['Index Name'] ? ` using ${node['Index Name']}` : ''} (${node['Actual Total Time']} ms, ${node['Actual Rows']} rows)`,
        )
      for (const child of node.Plans ?? []) walk(child)
    }
    walk(plan.Plan)
    return { executionMs: plan['Execution Time'], scans }
  } finally {
    await pg.end({ timeout: 5 })
  }
}
interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Actual Total Time': number
  'Actual Rows': number
  Plans?: PlanNode[]
}

/**
 * S5 lists and dashboard: a read model of `listRows` cases, the console's main lists and the
 * dashboard aggregates through the API (p95 under a closed loop of 4 clients) against the same
 * statements sent raw to PostgreSQL; proof that none of these paths calls Temporal.
 */
export async function s5Lists(
  b: Bench,
  sizes: Sizes,
  ctx: ScenarioContext,
  progress: (line: string) => void,
) {
  const before = Number(
    (
      await b.db
        .selectFrom('cases')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
  const genStart = Date.now()
  await generateCases(b, sizes.listRows, progress)
  const genSec = Math.round((Date.now() - genStart) / 1000)
  const supervisor = await b.db
    .selectFrom('users')
    .select('id')
    .where('username', '=', 'superviseur.cercle.kati')
    .executeTakeFirstOrThrow()
  const supervisorToken = b.tokenByUser.get(supervisor.id)!
  const q = (o: Record<string, unknown>) =>
    Object.entries(o)
      .map(([k, v]) => `${k}=${encodeURIComponent(JSON.stringify(v))}`)
      .join('&')
  const page = { range: [0, 24] }
  const paths: { name: string; path: string; token: string; kind: 'list' | 'dashboard' }[] = [
    {
      name: 'list: by area (region), newest first',
      path: `/api/cases?${q({ filter: { areaCode: 'ML-2' }, sort: ['openedAt', 'DESC'], ...page })}`,
      token: b.managerToken,
      kind: 'list',
    },
    {
      name: 'list: open, by due time',
      path: `/api/cases?${q({ filter: { status: 'open' }, sort: ['resolveDueAt', 'ASC'], ...page })}`,
      token: b.managerToken,
      kind: 'list',
    },
    {
      name: 'list: SLA breached, by due time',
      path: `/api/cases?${q({ filter: { status: 'open', slaState: 'breached' }, sort: ['resolveDueAt', 'ASC'], ...page })}`,
      token: b.managerToken,
      kind: 'list',
    },
    {
      name: "list: a cercle supervisor's open cases",
      path: `/api/cases?${q({ filter: { status: 'open' }, sort: ['resolveDueAt', 'ASC'], ...page })}`,
      token: supervisorToken,
      kind: 'list',
    },
    {
      name: 'dashboard: cases by region',
      path: '/api/reports/cases?groupBy=region',
      token: b.managerToken,
      kind: 'dashboard',
    },
    {
      name: 'dashboard: cases by category',
      path: '/api/reports/cases?groupBy=category',
      token: b.managerToken,
      kind: 'dashboard',
    },
    {
      name: 'dashboard: cases by month',
      path: '/api/reports/cases?groupBy=month',
      token: b.managerToken,
      kind: 'dashboard',
    },
  ]

  const app = await instrumentedApp(b)
  const connections = 4
  const raw = await b.gen.run<HttpGetResult>({
    type: 'http-get',
    url: b.rawHonoUrl,
    headers: {},
    connections,
    durationSec: sizes.listSec,
  })
  let temporalCalls = 0
  const measured: Record<string, unknown> = {}
  try {
    // A negative control: a case's detail does ask Temporal (its live state), and is counted.
    const someCase = await b.db
      .selectFrom('cases')
      .select(['id', 'areaCode'])
      .where('id', 'not like', 'S5-%')
      // A grievance: its detail carries the live state (other kinds' details may not, yet).
      .where('kind', '=', 'grievance')
      .where('sensitive', '=', false)
      .executeTakeFirst()
    const control = someCase
      ? await app.request(`/api/cases/${someCase.id}`, b.managerToken)
      : undefined
    ctx.details.control = control && {
      status: control.status,
      temporalCalls: control.temporalCalls.length,
    }
    for (const p of paths) {
      const probe = await app.request(p.path, p.token)
      if (probe.status !== 200) throw new Error(`${p.path} answered ${probe.status}`)
      temporalCalls += probe.temporalCalls.length
      const api = await b.gen.run<HttpGetResult>({
        type: 'http-get',
        url: `${b.apiUrl}${p.path}`,
        headers: { authorization: `Bearer ${p.token}` },
        connections,
        durationSec: sizes.listSec,
      })
      const rawSql = await b.gen.run<DriveResult>({
        type: 'sql',
        url: b.stack.databaseUrl,
        statements: probe.statements,
        connections,
        durationSec: sizes.listSec,
      })
      const plans = []
      for (const s of probe.statements) {
        // An EXPLAIN the API sends itself (the planner's estimate of a large list's total) is
        // not explained again.
        if (/"cases"/.test(s.sql) && !/^\s*explain\b/i.test(s.sql))
          plans.push({ sql: s.sql, ...(await explain(b, s)) })
      }
      measured[p.name] = { api, rawSql, statements: probe.statements.length, plans }
      const limit = p.kind === 'list' ? 50 : 200
      ctx.figures.push({
        name: `${p.name}: p95`,
        value: api.latencyMs.p95,
        unit: 'ms',
        baseline: { name: 'same SQL, raw p95', value: rawSql.latencyMs.p95, unit: 'ms' },
        ratio: ratio(api.latencyMs.p95, rawSql.latencyMs.p95),
        target: `≤ ${limit} ms`,
        met: api.latencyMs.p95 <= limit && api.errors === 0 && api.non2xx === 0,
      })
      ctx.notes.push(
        `${p.name}: ${api.ratePerSec} req/s (raw Hono ${raw.ratePerSec} req/s), raw SQL ${rawSql.ratePerSec} req/s; ${probe.statements.length} statements; on cases: ${plans.map((pl) => `${Math.round(pl.executionMs)} ms [${pl.scans.filter((x) => / on cases| using cases/.test(x)).join(', ')}]`).join(' + ')}`,
      )
    }
  } finally {
    await app.close()
  }
  ctx.details.rawHono = raw
  ctx.details.endpoints = measured
  ctx.details.rows = { before, generated: sizes.listRows, seconds: genSec }
  const controlCalls = (ctx.details.control as { temporalCalls: number } | undefined)?.temporalCalls
  ctx.figures.push({
    name: 'Temporal calls on these paths (visibility or any)',
    value: temporalCalls,
    baseline: { name: 'a case detail (control)', value: controlCalls ?? 0 },
    target: '0',
    met: temporalCalls === 0 && (controlCalls ?? 0) > 0,
  })
  ctx.notes.push(
    `${sizes.listRows} case rows generated with SQL in ${genSec} s (plus ${before} real ones); closed loop of ${connections} clients, ${sizes.listSec} s per endpoint; the raw baseline sends the very statements one API request makes (captured from an instrumented copy of the API), auth lookups included`,
  )
}
