/**
 * Public holidays of Mali (loi n° 05-040 du 22 juillet 2005 relative aux fêtes légales), by year:
 * the source the administrator starts from when setting each year's business calendar.
 *
 * The Muslim holidays follow the lunar calendar and are fixed only when the Commission nationale
 * d'observation de la lune has seen the crescent, often the evening before: the dates below are the
 * best-known ones (announced for 2025, expected for 2026 and 2027), marked `lunar: true`, and the
 * administrator confirms them each year when the authorities announce them. Days the government
 * adds by communiqué (a "lendemain de fête") are added the same way.
 */
export interface MaliPublicHoliday {
  /** Local date 'YYYY-MM-DD' (Bamako, UTC+0). */
  date: string
  name_fr: string
  name_en: string
  /** True when the date moves with the moon and must be confirmed each year. */
  lunar: boolean
}

const fixed = (year: number): MaliPublicHoliday[] => [
  { date: `${year}-01-01`, name_fr: 'Nouvel An', name_en: "New Year's Day", lunar: false },
  { date: `${year}-01-20`, name_fr: "Fête de l'Armée", name_en: 'Armed Forces Day', lunar: false },
  { date: `${year}-03-26`, name_fr: 'Journée des Martyrs', name_en: "Martyrs' Day", lunar: false },
  { date: `${year}-05-01`, name_fr: 'Fête du Travail', name_en: 'Labour Day', lunar: false },
  { date: `${year}-05-25`, name_fr: "Journée de l'Afrique", name_en: 'Africa Day', lunar: false },
  {
    date: `${year}-09-22`,
    name_fr: "Fête de l'Indépendance",
    name_en: 'Independence Day',
    lunar: false,
  },
  { date: `${year}-12-25`, name_fr: 'Noël', name_en: 'Christmas Day', lunar: false },
]

const easterMonday = (date: string): MaliPublicHoliday => ({
  date,
  name_fr: 'Lundi de Pâques',
  name_en: 'Easter Monday',
  lunar: false,
})

const korite = (date: string): MaliPublicHoliday => ({
  date,
  name_fr: 'Korité (Aïd el-Fitr)',
  name_en: 'Eid al-Fitr (end of Ramadan)',
  lunar: true,
})

const tabaski = (date: string): MaliPublicHoliday => ({
  date,
  name_fr: 'Tabaski (Aïd el-Kebir)',
  name_en: 'Eid al-Adha (Feast of the Sacrifice)',
  lunar: true,
})

const maouloud = (date: string): MaliPublicHoliday => ({
  date,
  name_fr: 'Maouloud (Naissance du Prophète)',
  name_en: "Mawlid (the Prophet's Birthday)",
  lunar: true,
})

/** Baptême du Prophète: 19 Rabi' al-awwal, seven days after the Maouloud. */
const bapteme = (date: string): MaliPublicHoliday => ({
  date,
  name_fr: 'Baptême du Prophète',
  name_en: "The Prophet's Baptism",
  lunar: true,
})

const byDate = (a: MaliPublicHoliday, b: MaliPublicHoliday) => a.date.localeCompare(b.date)

/** Mali's public holidays for 2025–2027, sorted by date; lunar ones to be confirmed each year. */
export const maliPublicHolidays: Record<
  number,
  { date: string; name_fr: string; name_en: string; lunar: boolean }[]
> = {
  2025: [
    ...fixed(2025),
    easterMonday('2025-04-21'),
    // Announced: Korité on Sunday 30 March, Tabaski moved to Friday 6 June (communiqué
    // n° 2025-006/MARCC-SG), Baptême on Thursday 11 September.
    korite('2025-03-30'),
    tabaski('2025-06-06'),
    maouloud('2025-09-04'),
    bapteme('2025-09-11'),
    {
      date: '2025-09-12',
      name_fr: 'Lendemain du Baptême du Prophète',
      name_en: "Day after the Prophet's Baptism",
      lunar: true,
    },
  ].sort(byDate),
  2026: [
    ...fixed(2026),
    easterMonday('2026-04-06'),
    korite('2026-03-20'),
    tabaski('2026-05-27'),
    maouloud('2026-08-25'),
    bapteme('2026-09-01'),
  ].sort(byDate),
  2027: [
    ...fixed(2027),
    easterMonday('2027-03-29'),
    korite('2027-03-09'),
    tabaski('2027-05-16'),
    maouloud('2027-08-14'),
    bapteme('2027-08-21'),
  ].sort(byDate),
}
