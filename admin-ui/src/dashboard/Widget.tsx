import {
  Card,
  CardContent,
  CircularProgress,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material'
import type { ReactNode } from 'react'
import { Link, useTranslate } from 'react-admin'

/** A figure of a widget: a number, or "masqué" when the count is too small to show. */
export interface Figure {
  key: string
  label: string
  value: number | null
  suppressed: boolean
  /** The list behind the figure. */
  to?: string
}

/**
 * A dashboard widget: a title, a chart, and the figures behind it as a table (readable without
 * the chart, by a screen reader, on a slow connection), each linking to the cases it counts.
 */
export function Widget({
  id,
  title,
  titleArgs,
  unit,
  loading,
  error,
  figures,
  chart,
}: {
  id: string
  title: string
  titleArgs?: Record<string, unknown>
  unit?: string
  loading: boolean
  error?: Error | null
  figures: Figure[]
  chart?: ReactNode
}) {
  const translate = useTranslate()
  return (
    <Card variant="outlined" data-testid={`widget-${id}`} sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="subtitle1" component="h2" gutterBottom>
          {translate(title, titleArgs)}
        </Typography>
        {loading ? (
          <CircularProgress size={24} aria-label={translate('ra.page.loading')} />
        ) : error ? (
          <Typography color="error">
            {translate(error.message, { _: translate('rsu.dashboard.error') })}
          </Typography>
        ) : figures.length === 0 ? (
          <Typography variant="body2">{translate('rsu.dashboard.no_data')}</Typography>
        ) : (
          <>
            {chart}
            <Table size="small" aria-label={translate(title)}>
              <TableHead>
                <TableRow>
                  <TableCell>{translate('rsu.dashboard.group')}</TableCell>
                  <TableCell align="right">{translate(unit ?? 'rsu.dashboard.value')}</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {figures.map((f) => (
                  <TableRow key={f.key}>
                    <TableCell>{f.to ? <Link to={f.to}>{f.label}</Link> : f.label}</TableCell>
                    <TableCell
                      align="right"
                      data-testid={`figure-${id}-${f.key}`}
                      data-suppressed={f.suppressed ? 'true' : 'false'}
                    >
                      {f.value === null
                        ? f.suppressed
                          ? translate('rsu.dashboard.suppressed')
                          : '—'
                        : f.value}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </>
        )}
      </CardContent>
    </Card>
  )
}
