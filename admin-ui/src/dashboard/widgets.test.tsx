// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { renderConsole } from '../test-utils'
import type { ReportRow } from '../types'
import Dashboard from './Dashboard'
import {
  BacklogByAge,
  BreachesByRegion,
  ComplianceByGroup,
  ComplianceTrend,
  MedianResolution,
  ReferralLoop,
} from './widgets'

// Each widget shows the figures the API computed, hides what the API suppressed (small counts),
// and links to the cases behind a figure. Only the API is mocked (msw).

const row = (r: Partial<ReportRow> & { key: string | null }): ReportRow => ({
  label: r.key,
  cases: null,
  open: null,
  closed: null,
  resolvedOnTime: null,
  breached: null,
  escalated: null,
  medianDaysToClosure: null,
  suppressed: false,
  ...r,
})
const hidden = (key: string, label = key) => row({ key, label, suppressed: true })

/** The API's answers, by query string (groupBy, kind, drill-down filter). */
const reports: Record<string, ReportRow[]> = {
  region: [
    row({
      key: 'ML-2',
      label: 'Koulikoro',
      cases: 40,
      closed: 30,
      resolvedOnTime: 24,
      breached: 6,
    }),
    row({ key: 'ML-1', label: 'Kayes', cases: 12, closed: 8, resolvedOnTime: 2, breached: 5 }),
    hidden('ML-9', 'Kidal'),
  ],
  category: [
    row({ key: 'payment_not_received', cases: 20, closed: 10, resolvedOnTime: 9 }),
    hidden('sea_gbv'),
  ],
  month: [
    row({ key: '2026-09', cases: 10, closed: 10, resolvedOnTime: 5, medianDaysToClosure: 12.5 }),
    row({ key: '2026-10', cases: 9, closed: 4, resolvedOnTime: 3, medianDaysToClosure: 8 }),
    hidden('2026-11'),
  ],
  'month&areaCode=ML-1': [row({ key: '2026-10', cases: 5, closed: 4, resolvedOnTime: 1 })],
  age: [row({ key: '31-90', cases: 7 }), row({ key: '0-7', cases: 15 }), hidden('91+')],
  'month&kind=referral': [row({ key: '2026-09', cases: 8, closed: 6 }), hidden('2026-10')],
}
const asked: string[] = []
let canExport = false

const server = setupServer(
  http.get('*/api/reports/cases', ({ request }) => {
    const params = new URL(request.url).searchParams
    asked.push(params.toString())
    const key = [
      params.get('groupBy'),
      ...['kind', 'areaCode', 'category', 'channel'].flatMap((f) =>
        params.has(f) ? [`${f}=${params.get(f)}`] : [],
      ),
    ].join('&')
    const rows = reports[key]
    if (!rows) return HttpResponse.json({ error: { code: 'INVALID_QUERY' } }, { status: 400 })
    return HttpResponse.json({ groupBy: params.get('groupBy'), minCell: 3, rows })
  }),
  http.get('*/api/reports/export-permission', () => HttpResponse.json({ canExport })),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  asked.length = 0
  canExport = false
})
afterAll(() => server.close())

/** The list filter a link opens (the console routes in the URL's hash). */
const filterOf = (href: string) => new URLSearchParams(href.split('?')[1]).get('filter')
const figure = async (id: string) => screen.findByTestId(`figure-${id}`)
const SUPPRESSED = 'masqué (< seuil)'

describe('SLA compliance by group', () => {
  it('shows the share resolved on time per region, and a suppressed region as hidden', async () => {
    renderConsole(<ComplianceByGroup dimension="region" range={{}} />, ['programme_manager'])
    // 24 of 30 closed on time: 80 %; 2 of 8: 25 %.
    expect((await figure('compliance-region-ML-2')).textContent).toBe('80')
    expect((await figure('compliance-region-ML-1')).textContent).toBe('25')
    const kidal = await figure('compliance-region-ML-9')
    expect(kidal.textContent).toBe(SUPPRESSED)
    expect(kidal.dataset.suppressed).toBe('true')
  })

  it('links a region to its closed cases', async () => {
    renderConsole(<ComplianceByGroup dimension="region" range={{}} />, ['programme_manager'])
    const link = await screen.findByRole('link', { name: 'Kayes' })
    const filter = filterOf(link.getAttribute('href')!)
    expect(JSON.parse(filter!)).toEqual({ status: 'closed', areaCode: 'ML-1' })
  })

  it('names categories from the catalogue and suppresses the small ones', async () => {
    renderConsole(<ComplianceByGroup dimension="category" range={{}} />, ['programme_manager'])
    expect((await figure('compliance-category-payment_not_received')).textContent).toBe('90')
    expect(await screen.findByRole('link', { name: 'Paiement non reçu' })).toBeTruthy()
    expect((await figure('compliance-category-sea_gbv')).textContent).toBe(SUPPRESSED)
  })
})

describe('compliance and median time over time', () => {
  it('shows compliance month by month, overall or drilled down to one region', async () => {
    renderConsole(<ComplianceTrend range={{}} selection={null} />, ['programme_manager'])
    expect((await figure('compliance-trend-2026-09')).textContent).toBe('50')
    expect((await figure('compliance-trend-2026-10')).textContent).toBe('75')
    expect((await figure('compliance-trend-2026-11')).textContent).toBe(SUPPRESSED)
    cleanup()
    renderConsole(
      <ComplianceTrend
        range={{}}
        selection={{ dimension: 'region', key: 'ML-1', label: 'Kayes' }}
      />,
      ['programme_manager'],
    )
    expect((await figure('compliance-trend-2026-10')).textContent).toBe('25')
    expect(await screen.findByText('Respect des délais par mois : Kayes')).toBeTruthy()
    expect(asked).toContain('groupBy=month&areaCode=ML-1')
  })

  it('shows the median days to closure the API computed', async () => {
    renderConsole(<MedianResolution range={{}} selection={null} />, ['programme_manager'])
    expect((await figure('median-2026-09')).textContent).toBe('12.5')
    expect((await figure('median-2026-10')).textContent).toBe('8')
    expect((await figure('median-2026-11')).textContent).toBe(SUPPRESSED)
  })
})

describe('backlog, breaches and referrals', () => {
  it('orders the backlog by age and hides a small bucket', async () => {
    renderConsole(<BacklogByAge range={{}} />, ['programme_manager'])
    const widget = await screen.findByTestId('widget-backlog')
    await waitFor(() => expect(within(widget).getAllByRole('row')).toHaveLength(4))
    const labels = within(widget)
      .getAllByRole('link')
      .map((a) => a.textContent)
    expect(labels).toEqual(['0 à 7 jours', '31 à 90 jours', 'Plus de 90 jours'])
    expect((await figure('backlog-0-7')).textContent).toBe('15')
    expect((await figure('backlog-91+')).textContent).toBe(SUPPRESSED)
  })

  it('counts breaches per region, each linking to the breached cases of that region', async () => {
    renderConsole(<BreachesByRegion range={{}} />, ['programme_manager'])
    expect((await figure('breaches-ML-1')).textContent).toBe('5')
    const link = await screen.findByRole('link', { name: 'Koulikoro' })
    const filter = filterOf(link.getAttribute('href')!)
    expect(JSON.parse(filter!)).toEqual({ slaState: 'breached', areaCode: 'ML-2' })
  })

  it('shows the closed-loop rate of referrals', async () => {
    renderConsole(<ReferralLoop range={{}} />, ['programme_manager'])
    // 6 of 8 referrals closed by the partner's confirmation: 75 %.
    expect((await figure('referral-loop-2026-09')).textContent).toBe('75')
    expect((await figure('referral-loop-2026-10')).textContent).toBe(SUPPRESSED)
  })
})

describe('the dashboard', () => {
  it('offers the CSV export only to a user holding the export permission', async () => {
    renderConsole(<Dashboard />, ['programme_manager'])
    expect((await figure('compliance-region-ML-2')).textContent).toBe('80')
    expect(screen.queryByTestId('dashboard-export')).toBeNull()
    cleanup()
    canExport = true
    renderConsole(<Dashboard />, ['programme_manager'])
    const button = await screen.findByTestId('dashboard-export')
    expect(button.getAttribute('href')).toContain('/api/reports/cases.csv?groupBy=region')
    expect(button.textContent).toContain('Exporter en CSV')
  })
})
