import type { Bench } from '../lib/harness'
import type { ScenarioContext } from '../lib/report'
import { ratio, waitUntil, type Sizes } from './common'

interface CampaignProgress {
  id: string
  status: string
  total: number
  pending: number
  started: number
  failed: number
  errors: { line: number; code: string }[]
}

/**
 * S7 campaign: the programme manager uploads a CSV of N households
 * (`POST /api/reverifications/campaigns`, five bad lines among them); re-verifications started per
 * second until the campaign's progress shows every good line started (the cases then run on the
 * worker as they would), against raw Temporal starts/s measured by B0; the bad lines are reported
 * by their number and start nothing. The suite keeps a campaign of a few hundred lines
 * (test/api/reverification-campaign.test.ts); the 10,000-line run is `--full` here.
 */
export async function s8Campaign(
  b: Bench,
  sizes: Sizes,
  ctx: ScenarioContext,
  rawStartRate: number,
) {
  const n = sizes.campaign
  const commune = b.intakeClients[0]!.communeCode
  const tag = `S7${Date.now().toString(36).toUpperCase()}`
  const ids = Array.from({ length: n }, (_, i) => `${tag}-${String(i + 1).padStart(6, '0')}`)
  for (let i = 0; i < ids.length; i += 2_000) {
    await b.db
      .insertInto('households')
      .values(ids.slice(i, i + 2_000).map((id) => ({ id, areaCode: commune, members: 5 })))
      .execute()
  }
  // Five bad lines spread through the file (the duplicate after the line it repeats).
  const bad = ['"x"y', `${ids[0]},extra`, 'pas un identifiant!', ids[1]!, `${tag}-NONE`]
  const at = bad.map((_, k) => Math.floor((n * (k + 1)) / (bad.length + 1)))
  const lines = ['household_id']
  ids.forEach((id, i) => {
    lines.push(id)
    at.forEach((position, k) => position === i && lines.push(bad[k]!))
  })
  const headers = { authorization: `Bearer ${b.managerToken}` }

  const t0 = performance.now()
  const res = await fetch(`${b.apiUrl}/api/reverifications/campaigns?name=bench-${tag}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'text/csv' },
    body: lines.join('\n') + '\n',
  })
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`)
  const created = (await res.json()) as CampaignProgress
  const uploadMs = performance.now() - t0
  const done = await waitUntil(
    `${n} re-verifications started`,
    async () => {
      const p = (await (
        await fetch(`${b.apiUrl}/api/reverifications/campaigns/${created.id}`, { headers })
      ).json()) as CampaignProgress
      return p.started + p.failed === p.total ? p : undefined
    },
    60 * 60_000,
    500,
  )
  const seconds = (performance.now() - t0) / 1000
  const perSec = Math.round((done.started / seconds) * 10) / 10
  const r = ratio(perSec, rawStartRate)
  ctx.details.campaign = { id: created.id, lines: lines.length - 1, uploadMs, seconds, done }
  ctx.figures.push(
    {
      name: `re-verifications started/s (campaign of ${n})`,
      value: perSec,
      unit: '/s',
      baseline: { name: 'raw Temporal starts/s (B0)', value: rawStartRate, unit: '/s' },
      ratio: r,
      met: null,
    },
    {
      name: 'campaign: started / bad lines reported',
      value: `${done.started} / ${done.failed}`,
      target: `${n} / 5`,
      met: done.started === n && done.failed === 5 && done.errors.length === 5,
    },
    {
      name: 'upload answered (validated, stored)',
      value: Math.round(uploadMs),
      unit: 'ms',
      met: null,
    },
  )
  ctx.notes.push(
    `${lines.length - 1} lines uploaded in ${Math.round(uploadMs)} ms; all started after ${Math.round(seconds)} s; bad lines: ${done.errors.map((e) => `${e.line} ${e.code}`).join(', ')}`,
  )
}
