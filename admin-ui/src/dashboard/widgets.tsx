import { useNavigate } from 'react-router-dom'
import { useLocale, useTranslate } from 'react-admin'
import {
  Bar,
  BarChart,
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import type { ReportQuery } from '../dataProvider'
import { enums, enumKey } from '../labels'
import type { ReportRow } from '../types'
import { casesLink, closedLoopOf, complianceOf, useReport } from './useReport'
import { Widget, type Figure } from './Widget'

export type Range = { from?: string; to?: string }
export type Dimension = 'region' | 'category' | 'channel'
/** A drill-down: one region, category or channel chosen on a chart. */
export type Selection = { dimension: Dimension; key: string; label: string } | null

const CHART_HEIGHT = 200

const complianceTitles: Record<Dimension, string> = {
  region: 'rsu.dashboard.compliance_by_region',
  category: 'rsu.dashboard.compliance_by_category',
  channel: 'rsu.dashboard.compliance_by_channel',
}

function useGroupLabel(groupBy: ReportQuery['groupBy']) {
  const translate = useTranslate()
  return (row: ReportRow) => {
    if (row.key === null) return translate('rsu.dashboard.unknown')
    if (groupBy === 'category') return translate(...enumKey('rsu.category', row.key))
    if (groupBy === 'channel') return translate(...enumKey('rsu.channel', row.key))
    if (groupBy === 'age') return translate(...enumKey('rsu.age_bucket', row.key))
    return row.label ?? row.key
  }
}

const filterOf = (selection: Selection): Partial<ReportQuery> =>
  selection === null
    ? {}
    : selection.dimension === 'region'
      ? { areaCode: selection.key }
      : { [selection.dimension]: selection.key }

function Bars({ figures, onSelect }: { figures: Figure[]; onSelect?: (figure: Figure) => void }) {
  return (
    <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
      <BarChart data={figures} margin={{ left: -20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Bar
          dataKey="value"
          fill="#1976d2"
          cursor={onSelect ? 'pointer' : undefined}
          onClick={(entry: { payload?: Figure }) => entry.payload && onSelect?.(entry.payload)}
        />
      </BarChart>
    </ResponsiveContainer>
  )
}

function Trend({ figures }: { figures: Figure[] }) {
  return (
    <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
      <LineChart data={figures} margin={{ left: -20 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} />
        <YAxis />
        <Tooltip />
        <Line type="monotone" dataKey="value" stroke="#2e7d32" connectNulls={false} />
      </LineChart>
    </ResponsiveContainer>
  )
}

/**
 * SLA compliance (share of closed cases resolved on time) by region, category or channel. A bar
 * or a row opens the trend of that group; the row's link opens the cases behind it.
 */
export function ComplianceByGroup({
  dimension,
  range,
  onSelect,
}: {
  dimension: Dimension
  range: Range
  onSelect?: (selection: Selection) => void
}) {
  const locale = useLocale()
  const { data, isPending, error } = useReport({ groupBy: dimension, ...range, lang: locale })
  const label = useGroupLabel(dimension)
  const figures: Figure[] = (data?.rows ?? []).map((r) => ({
    key: r.key ?? 'unknown',
    label: label(r),
    value: complianceOf(r),
    suppressed: r.suppressed,
    to:
      r.key === null || dimension === 'channel'
        ? undefined
        : casesLink({ status: 'closed', [dimension === 'region' ? 'areaCode' : dimension]: r.key }),
  }))
  return (
    <Widget
      id={`compliance-${dimension}`}
      title={complianceTitles[dimension]}
      unit="rsu.dashboard.percent_on_time"
      loading={isPending}
      error={error}
      figures={figures}
      chart={
        <Bars
          figures={figures}
          onSelect={(f) => onSelect?.({ dimension, key: f.key, label: f.label })}
        />
      }
    />
  )
}

/** Compliance month by month, overall or for the group chosen on a chart. */
export function ComplianceTrend({ range, selection }: { range: Range; selection: Selection }) {
  const translate = useTranslate()
  const { data, isPending, error } = useReport({
    groupBy: 'month',
    ...range,
    ...filterOf(selection),
  })
  const figures: Figure[] = (data?.rows ?? []).map((r) => ({
    key: r.key ?? 'unknown',
    label: r.key ?? translate('rsu.dashboard.unknown'),
    value: complianceOf(r),
    suppressed: r.suppressed,
  }))
  return (
    <Widget
      id="compliance-trend"
      title={selection ? 'rsu.dashboard.compliance_trend_of' : 'rsu.dashboard.compliance_trend'}
      titleArgs={{ group: selection?.label }}
      unit="rsu.dashboard.percent_on_time"
      loading={isPending}
      error={error}
      figures={figures}
      chart={<Trend figures={figures} />}
    />
  )
}

/** The backlog: open cases by days waiting since they were opened. */
export function BacklogByAge({ range }: { range: Range }) {
  const navigate = useNavigate()
  const { data, isPending, error } = useReport({ groupBy: 'age', ...range })
  const label = useGroupLabel('age')
  const order = enums['rsu.age_bucket'] as readonly string[]
  const link = casesLink({ status: 'open' })
  const figures: Figure[] = [...(data?.rows ?? [])]
    .sort((a, b) => order.indexOf(a.key ?? '') - order.indexOf(b.key ?? ''))
    .map((r) => ({
      key: r.key ?? 'unknown',
      label: label(r),
      value: r.cases,
      suppressed: r.suppressed,
      to: link,
    }))
  return (
    <Widget
      id="backlog"
      title="rsu.dashboard.backlog_by_age"
      unit="rsu.dashboard.open_cases"
      loading={isPending}
      error={error}
      figures={figures}
      chart={<Bars figures={figures} onSelect={() => navigate(link)} />}
    />
  )
}

/** Cases whose SLA is breached, by region, each opening the breached cases of its region. */
export function BreachesByRegion({ range }: { range: Range }) {
  const navigate = useNavigate()
  const { data, isPending, error } = useReport({ groupBy: 'region', ...range })
  const label = useGroupLabel('region')
  const figures: Figure[] = (data?.rows ?? []).map((r) => ({
    key: r.key ?? 'unknown',
    label: label(r),
    value: r.breached,
    suppressed: r.suppressed,
    to: r.key ? casesLink({ slaState: 'breached', areaCode: r.key }) : undefined,
  }))
  return (
    <Widget
      id="breaches"
      title="rsu.dashboard.breaches_by_region"
      unit="rsu.dashboard.breached_cases"
      loading={isPending}
      error={error}
      figures={figures}
      chart={<Bars figures={figures} onSelect={(f) => f.to && navigate(f.to)} />}
    />
  )
}

/** Median days from opening to closure, by month of opening. */
export function MedianResolution({ range, selection }: { range: Range; selection: Selection }) {
  const translate = useTranslate()
  const { data, isPending, error } = useReport({
    groupBy: 'month',
    ...range,
    ...filterOf(selection),
  })
  const figures: Figure[] = (data?.rows ?? []).map((r) => ({
    key: r.key ?? 'unknown',
    label: r.key ?? translate('rsu.dashboard.unknown'),
    value: r.medianDaysToClosure,
    suppressed: r.suppressed,
  }))
  return (
    <Widget
      id="median"
      title="rsu.dashboard.median_resolution"
      unit="rsu.dashboard.days"
      loading={isPending}
      error={error}
      figures={figures}
      chart={<Trend figures={figures} />}
    />
  )
}

/**
 * The closed-loop rate of referrals: the share whose loop the partner closed by confirming the
 * outcome (a referral closes only then, DESIGN §4), by month of referral.
 */
export function ReferralLoop({ range }: { range: Range }) {
  const translate = useTranslate()
  const { data, isPending, error } = useReport({ groupBy: 'month', kind: 'referral', ...range })
  const link = casesLink({ kind: 'referral' })
  const figures: Figure[] = (data?.rows ?? []).map((r) => ({
    key: r.key ?? 'unknown',
    label: r.key ?? translate('rsu.dashboard.unknown'),
    value: closedLoopOf(r),
    suppressed: r.suppressed,
    to: link,
  }))
  return (
    <Widget
      id="referral-loop"
      title="rsu.dashboard.referral_loop"
      unit="rsu.dashboard.percent_closed_loop"
      loading={isPending}
      error={error}
      figures={figures}
      chart={<Trend figures={figures} />}
    />
  )
}
