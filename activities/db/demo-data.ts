/**
 * The demo dataset seeded on the first `npm start`: Mali's administrative geography (the eight
 * regions and the district of Bamako with their cercles; a handful of communes), services of the
 * integrated protection package, partner organisations and a few synthetic households.
 * Nothing here is a real person.
 */

/** Regions (ISO 3166-2:ML codes) and their cercles. */
export const regions: { code: string; name: string; cercles: string[] }[] = [
  {
    code: 'ML-1',
    name: 'Kayes',
    cercles: ['Bafoulabé', 'Diéma', 'Kayes', 'Kéniéba', 'Kita', 'Nioro du Sahel', 'Yélimané'],
  },
  {
    code: 'ML-2',
    name: 'Koulikoro',
    cercles: ['Banamba', 'Dioïla', 'Kangaba', 'Kati', 'Kolokani', 'Koulikoro', 'Nara'],
  },
  {
    code: 'ML-3',
    name: 'Sikasso',
    cercles: ['Bougouni', 'Kadiolo', 'Kolondiéba', 'Koutiala', 'Sikasso', 'Yanfolila', 'Yorosso'],
  },
  {
    code: 'ML-4',
    name: 'Ségou',
    cercles: ['Barouéli', 'Bla', 'Macina', 'Niono', 'San', 'Ségou', 'Tominian'],
  },
  {
    code: 'ML-5',
    name: 'Mopti',
    cercles: [
      'Bandiagara',
      'Bankass',
      'Djenné',
      'Douentza',
      'Koro',
      'Mopti',
      'Ténenkou',
      'Youwarou',
    ],
  },
  {
    code: 'ML-6',
    name: 'Tombouctou',
    cercles: ['Diré', 'Goundam', 'Gourma-Rharous', 'Niafunké', 'Tombouctou'],
  },
  { code: 'ML-7', name: 'Gao', cercles: ['Ansongo', 'Bourem', 'Gao', 'Ménaka'] },
  { code: 'ML-8', name: 'Kidal', cercles: ['Abeïbara', 'Kidal', 'Tessalit', 'Tin-Essako'] },
  // The district of Bamako has no cercles; it is modelled as one cercle holding its six communes.
  { code: 'ML-BKO', name: 'District de Bamako', cercles: ['Bamako'] },
]

/** Communes seeded for the demo, by cercle name. */
export const communes: { cercle: string; name: string }[] = [
  ...['I', 'II', 'III', 'IV', 'V', 'VI'].map((n) => ({ cercle: 'Bamako', name: `Commune ${n}` })),
  { cercle: 'Kati', name: 'Kati' },
  { cercle: 'Kayes', name: 'Kayes' },
  { cercle: 'Sikasso', name: 'Sikasso' },
  { cercle: 'Koutiala', name: 'Koutiala' },
  { cercle: 'Ségou', name: 'Ségou' },
  { cercle: 'Mopti', name: 'Mopti' },
]

export const services: { code: string; fr: string; en: string }[] = [
  { code: 'cash_transfer', fr: 'Transferts monétaires', en: 'Cash transfers' },
  { code: 'food_assistance', fr: 'Assistance alimentaire', en: 'Food assistance' },
  { code: 'nutrition', fr: 'Nutrition', en: 'Nutrition' },
  { code: 'health_insurance', fr: 'Assurance maladie', en: 'Health insurance' },
  { code: 'education', fr: 'Éducation', en: 'Education' },
  { code: 'livelihoods', fr: 'Moyens de subsistance', en: 'Livelihoods' },
  { code: 'gbv_services', fr: 'Prise en charge des VBG', en: 'GBV services' },
  { code: 'psychosocial', fr: 'Soutien psychosocial', en: 'Psychosocial support' },
]

export const partners: {
  code: string
  name: string
  kind: 'government' | 'un_agency' | 'ngo' | 'health' | 'other'
  services: string[]
}[] = [
  {
    code: 'pam',
    name: 'Programme alimentaire mondial (PAM)',
    kind: 'un_agency',
    services: ['food_assistance', 'cash_transfer'],
  },
  {
    code: 'unicef',
    name: 'UNICEF Mali',
    kind: 'un_agency',
    services: ['nutrition', 'education'],
  },
  {
    code: 'croix-rouge',
    name: 'Croix-Rouge malienne',
    kind: 'ngo',
    services: ['cash_transfer', 'livelihoods', 'psychosocial'],
  },
  {
    code: 'anam',
    name: "Agence nationale d'assistance médicale (ANAM)",
    kind: 'government',
    services: ['health_insurance'],
  },
  {
    code: 'one-stop-center',
    name: 'Centre One Stop de prise en charge des VBG',
    kind: 'health',
    services: ['gbv_services', 'psychosocial'],
  },
]

/** Synthetic households of the registry cache: identifier, commune, size, score, programmes. */
export const households: {
  id: string
  commune: string
  members: number
  pmtScore: number
  programmes: string[]
}[] = [
  {
    id: 'RSU-0000001',
    commune: 'Commune I',
    members: 7,
    pmtScore: 21.4,
    programmes: ['jigisemejiri'],
  },
  { id: 'RSU-0000002', commune: 'Commune IV', members: 4, pmtScore: 38.9, programmes: [] },
  {
    id: 'RSU-0000003',
    commune: 'Kati',
    members: 9,
    pmtScore: 17.2,
    programmes: ['jigisemejiri', 'ramed'],
  },
  {
    id: 'RSU-0000004',
    commune: 'Ségou',
    members: 6,
    pmtScore: 25.0,
    programmes: ['food_assistance'],
  },
  {
    id: 'RSU-0000005',
    commune: 'Mopti',
    members: 11,
    pmtScore: 12.8,
    programmes: ['jigisemejiri', 'food_assistance'],
  },
  { id: 'RSU-0000006', commune: 'Sikasso', members: 5, pmtScore: 31.6, programmes: ['ramed'] },
]

/** "Nioro du Sahel" → "NIORO-DU-SAHEL": area codes are ASCII, stable and readable. */
export function slug(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toUpperCase()
}
