import { useQuery } from '@tanstack/react-query'
import { useDataProvider } from 'react-admin'
import type { ReportQuery, RsuDataProvider } from '../dataProvider'

/** One aggregate of `GET /api/reports/cases` (counts below the threshold come back null). */
export function useReport(params: ReportQuery) {
  const dataProvider = useDataProvider<RsuDataProvider>()
  return useQuery({
    queryKey: ['report', params],
    queryFn: () => dataProvider.report(params),
  })
}

/** Share resolved on time among the closed cases, in percent; null when a count is hidden. */
export const complianceOf = (row: { closed: number | null; resolvedOnTime: number | null }) =>
  row.closed === null || row.resolvedOnTime === null || row.closed === 0
    ? null
    : Math.round((row.resolvedOnTime / row.closed) * 100)

/** Share of referrals whose loop is closed (the partner confirmed the outcome), in percent. */
export const closedLoopOf = (row: { cases: number | null; closed: number | null }) =>
  row.cases === null || row.closed === null || row.cases === 0
    ? null
    : Math.round((row.closed / row.cases) * 100)

/** A link to the case list behind a figure. */
export const casesLink = (filter: Record<string, unknown>) =>
  `/cases?${new URLSearchParams({ filter: JSON.stringify(filter) }).toString()}`
