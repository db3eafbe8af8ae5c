import DownloadIcon from '@mui/icons-material/Download'
import { Box, Button, Chip, Grid, Stack, Tab, Tabs, TextField } from '@mui/material'
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Title, useDataProvider, useLocale, useTranslate } from 'react-admin'
import { reportCsvUrl, type RsuDataProvider } from '../dataProvider'
import {
  BacklogByAge,
  BreachesByRegion,
  ComplianceByGroup,
  ComplianceTrend,
  MedianResolution,
  ReferralLoop,
  type Dimension,
  type Range,
  type Selection,
} from './widgets'

const yearAgo = () => new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10)

/** The CSV of the report on screen, for users granted the (audited) export permission only. */
function ExportButton({ dimension, range }: { dimension: Dimension; range: Range }) {
  const translate = useTranslate()
  const locale = useLocale()
  const dataProvider = useDataProvider<RsuDataProvider>()
  const { data } = useQuery({
    queryKey: ['export-permission'],
    queryFn: () => dataProvider.exportPermission(),
  })
  if (!data?.canExport) return null
  return (
    <Button
      href={reportCsvUrl({ groupBy: dimension, ...range }, locale)}
      startIcon={<DownloadIcon />}
      variant="outlined"
      data-testid="dashboard-export"
    >
      {translate('rsu.dashboard.export_csv')}
    </Button>
  )
}

/**
 * The programme manager's dashboard: SLA compliance by region, category and channel and over
 * time, the backlog by age, breaches, the median time to resolution and the referrals'
 * closed-loop rate. Every chart drills down to the cases behind it; small counts stay hidden.
 */
export default function Dashboard() {
  const translate = useTranslate()
  const [range, setRange] = useState<Range>({ from: yearAgo() })
  const [dimension, setDimension] = useState<Dimension>('region')
  const [selection, setSelection] = useState<Selection>(null)
  return (
    <Box sx={{ mt: 2 }} data-testid="dashboard">
      <Title title="rsu.dashboard.title" />
      <Stack
        direction="row"
        spacing={2}
        useFlexGap
        sx={{ alignItems: 'center', flexWrap: 'wrap', mb: 2 }}
      >
        <TextField
          type="date"
          size="small"
          label={translate('rsu.dashboard.from')}
          value={range.from ?? ''}
          onChange={(e) => setRange({ ...range, from: e.target.value || undefined })}
          slotProps={{ inputLabel: { shrink: true } }}
          sx={{ width: 190 }}
        />
        <TextField
          type="date"
          size="small"
          label={translate('rsu.dashboard.to')}
          value={range.to ?? ''}
          onChange={(e) => setRange({ ...range, to: e.target.value || undefined })}
          slotProps={{ inputLabel: { shrink: true } }}
          sx={{ width: 190 }}
        />
        {selection && (
          <Chip
            label={translate('rsu.dashboard.drilled', { group: selection.label })}
            onDelete={() => setSelection(null)}
            data-testid="dashboard-selection"
          />
        )}
        <ExportButton dimension={dimension} range={range} />
      </Stack>
      <Tabs
        value={dimension}
        onChange={(_e, value: Dimension) => setDimension(value)}
        aria-label={translate('rsu.dashboard.dimension')}
      >
        <Tab value="region" label={translate('rsu.dashboard.by_region')} />
        <Tab value="category" label={translate('rsu.dashboard.by_category')} />
        <Tab value="channel" label={translate('rsu.dashboard.by_channel')} />
      </Tabs>
      <Grid container spacing={2} sx={{ mt: 1 }}>
        <Grid size={{ xs: 12, md: 6 }}>
          <ComplianceByGroup dimension={dimension} range={range} onSelect={setSelection} />
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <ComplianceTrend range={range} selection={selection} />
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <BacklogByAge range={range} />
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <BreachesByRegion range={range} />
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <MedianResolution range={range} selection={selection} />
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <ReferralLoop range={range} />
        </Grid>
      </Grid>
    </Box>
  )
}
