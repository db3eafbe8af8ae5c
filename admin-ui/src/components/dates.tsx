import { DateField, useLocale, type DateFieldProps } from 'react-admin'

// Dates read as in Bamako (UTC+0, no daylight saving), in the console's language.
const TIME_ZONE = 'Africa/Bamako'
const tag = (locale: string) => (locale === 'en' ? 'en-GB' : 'fr-FR')

/** Formats an ISO date-time for people: "30/11/2026 15:30". */
export function useDateTime() {
  const locale = useLocale()
  return (iso: string | null | undefined) =>
    iso
      ? new Date(iso).toLocaleString(tag(locale), {
          timeZone: TIME_ZONE,
          dateStyle: 'short',
          timeStyle: 'short',
        })
      : '—'
}

/** react-admin's DateField in the console's language and Bamako time. */
export function LocalDate(props: DateFieldProps) {
  const locale = useLocale()
  return (
    <DateField
      locales={tag(locale)}
      options={
        props.showTime
          ? { timeZone: TIME_ZONE, dateStyle: 'short', timeStyle: 'short' }
          : { timeZone: TIME_ZONE }
      }
      {...props}
    />
  )
}
