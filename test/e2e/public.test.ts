import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PUBLIC_PAGE_BUDGET_BYTES } from '../../public-ui/size-report'
import {
  screenshot,
  shootOnFailure,
  startBrowserStack,
  takeCspViolations,
  watchPage,
  type BrowserStack,
} from '../helpers/browser'
import { eventually, mailbox } from '../helpers/temporal'

/**
 * A member of the public on a small phone (360 × 740), on the real stack: submits a grievance in
 * French, keeps the reference and PIN, follows it in French and in English, and is told clearly
 * when something is wrong. The pages never load the console.
 */
let stack: BrowserStack
let context: BrowserContext
let page: Page
/** The path of every request the phone made in these tests. */
const transfers: { path: string }[] = []

beforeAll(async () => {
  stack = await startBrowserStack(['public'])
  context = await stack.browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: 'fr-FR',
    timezoneId: 'Africa/Bamako',
  })
  page = watchPage(await context.newPage())
  page.on('request', (request) => transfers.push({ path: new URL(request.url()).pathname }))
})
afterEach(shootOnFailure)
// The pages run under the strict CSP (api/security-headers.ts): nothing of theirs is blocked.
afterEach(() => expect(takeCspViolations()).toEqual([]))
afterAll(async () => {
  await context?.close()
  await stack?.stop()
})

const countCases = async () =>
  Number(
    (
      await stack.tdb.db
        .selectFrom('cases')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

/** Nothing wider than the phone's screen: no sideways scrolling. */
const fitsTheScreen = () =>
  page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')

describe('the public pages on a 360-pixel phone', () => {
  const email = 'e2e.plaignant@exemple.ml'
  let reference = ''
  let pin = ''

  it('submits a grievance and shows the reference and PIN once; the acknowledgement arrives', async () => {
    await page.goto(`${stack.url}/`)
    await page
      .getByRole('heading', { level: 1, name: 'Plaintes du Registre Social Unifié' })
      .waitFor()
    expect(await fitsTheScreen()).toBe(true)
    await screenshot(page, 'public-home')

    await page.getByRole('link', { name: /Déposer une plainte/ }).click()
    await page.getByLabel('Votre commune *').waitFor()
    expect(new URL(page.url()).pathname).toBe('/plainte/')

    // Bad input: told what to fix, on the fields, and nothing is created.
    const before = await countCases()
    await page.getByLabel('Décrivez votre plainte *').fill('court')
    await page.getByRole('button', { name: 'Envoyer la plainte' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toContain('Choisissez votre commune.')
    expect(await alert.textContent()).toContain('au moins 10 caractères')
    expect(await page.getByLabel('Votre commune *').getAttribute('aria-invalid')).toBe('true')
    expect(await countCases()).toBe(before)

    await page.getByLabel('Sujet de la plainte').selectOption({ label: 'Paiement non reçu' })
    await page.getByLabel('Votre commune *').selectOption({ label: 'Kati' })
    await page
      .getByLabel('Décrivez votre plainte *')
      .fill("Je n'ai pas reçu le paiement du dernier trimestre alors que mon ménage est inscrit.")
    await page.getByLabel('Adresse e-mail').fill(email)
    expect(await fitsTheScreen()).toBe(true)
    await screenshot(page, 'public-submit')
    await page.getByRole('button', { name: 'Envoyer la plainte' }).click()

    await page.getByTestId('receipt').waitFor()
    reference = (await page.getByTestId('receipt-reference').textContent()) ?? ''
    pin = (await page.getByTestId('receipt-pin').textContent()) ?? ''
    expect(reference).toMatch(/^PL-\d{4}-[2-9A-Z]{6}$/)
    expect(pin).toMatch(/^\d{6}$/)
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
      'Votre plainte a été enregistrée',
    )
    await screenshot(page, 'public-confirmation')

    // The real workflow took it: a web grievance in Kati, and the acknowledgement (no PIN) is sent.
    const row = await eventually(
      () =>
        stack.tdb.db
          .selectFrom('cases')
          .select(['channel', 'areaCode', 'category'])
          .where('reference', '=', reference)
          .executeTakeFirst(),
      { what: 'the case in the read model' },
    )
    expect(row).toEqual({
      channel: 'web',
      areaCode: 'ML-2-KATI-KATI',
      category: 'payment_not_received',
    })
    const [ack] = await eventually(
      async () => {
        const mail = await mailbox(email)
        return mail.length ? mail : undefined
      },
      { what: 'the acknowledgement email' },
    )
    expect(ack!.subject + ack!.text).toContain(reference)
    expect(ack!.text).not.toContain(pin)
  })

  it('follows the grievance with the reference and PIN, and refuses a wrong PIN clearly', async () => {
    await page.getByRole('link', { name: 'Suivre cette plainte' }).click()
    await page.getByLabel('Code PIN (6 chiffres) *').waitFor()
    // The reference comes along; the PIN never travels in an address.
    expect(await page.getByLabel('Référence *').inputValue()).toBe(reference)
    expect(page.url()).not.toContain(pin)

    const wrong = pin === '000000' ? '111111' : '000000'
    await page.getByLabel('Code PIN (6 chiffres) *').fill(wrong)
    await page.getByRole('button', { name: 'Voir l’état' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: 'Aucune plainte ne correspond à cette référence et à ce code PIN' })
      .waitFor()

    await page.getByLabel('Code PIN (6 chiffres) *').fill(pin)
    await page.getByRole('button', { name: 'Voir l’état' }).click()
    await page.getByTestId('track-status').waitFor()
    expect(await page.getByTestId('track-status').textContent()).toBe('Reçue')
    expect(await page.getByTestId('track-message').textContent()).toBe(
      'Votre plainte a été reçue et sera examinée.',
    )
    expect(await page.getByTestId('track-result').textContent()).toContain(reference)
    expect(await page.getByRole('alert').isHidden()).toBe(true)
    expect(await fitsTheScreen()).toBe(true)
    await screenshot(page, 'public-track')
  })

  it('speaks English on request, from the link on every page', async () => {
    await page.goto(`${stack.url}/`)
    await page.getByTestId('switch-language').click()
    await page
      .getByRole('heading', { level: 1, name: 'Unified Social Registry grievances' })
      .waitFor()
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('en')
    await page.getByRole('link', { name: /Follow a grievance/ }).click()
    await page.getByLabel('Reference *').fill(reference.toLowerCase())
    await page.getByLabel('PIN (6 digits) *').fill(pin)
    await page.getByRole('button', { name: 'Show the status' }).click()
    await page.getByTestId('track-status').waitFor()
    expect(await page.getByTestId('track-status').textContent()).toBe('Received')
    expect(await page.getByTestId('track-message').textContent()).toBe(
      'Your grievance has been received and will be reviewed.',
    )
    await page.goto(`${stack.url}/plainte/?lang=en`)
    await page.getByLabel('Your commune *').waitFor()
    expect(await page.getByLabel('Subject of the grievance').textContent()).toContain(
      'Payment not received',
    )
  })

  it('tells a member of the public to wait when the reference is locked after wrong PINs', async () => {
    await page.goto(`${stack.url}/suivi/?ref=${reference}`)
    const wrong = pin === '000000' ? '111111' : '000000'
    await page.getByLabel('Code PIN (6 chiffres) *').fill(wrong)
    // The button stays disabled while a request runs, so each click waits for the previous answer.
    for (let attempt = 0; attempt < 5; attempt++) {
      await page.getByRole('button', { name: 'Voir l’état' }).click()
      await page.getByRole('alert').filter({ hasText: 'Aucune plainte' }).waitFor()
    }
    await page.getByLabel('Code PIN (6 chiffres) *').fill(pin)
    await page.getByRole('button', { name: 'Voir l’état' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: 'Trop de tentatives. Réessayez dans 15 minute(s).' })
      .waitFor()
    expect(await page.getByTestId('track-result').textContent()).toBe('')
  })

  it('keeps an anonymous grievance typed while the connection drops, and sends it once back', async () => {
    await page.goto(`${stack.url}/plainte/`)
    await page.getByLabel('Votre commune *').selectOption({ label: 'Commune IV' })
    const narrative = 'Des agents demandent de l’argent pour inscrire les ménages sur la liste.'
    await page.getByLabel('Décrivez votre plainte *').fill(narrative)
    await page.getByLabel(/Je veux rester anonyme/).check()
    // Anonymous: no contact asked for.
    expect(await page.getByLabel('Adresse e-mail').isVisible()).toBe(false)

    const before = await countCases()
    await context.setOffline(true)
    await page.getByRole('button', { name: 'Envoyer la plainte' }).click()
    await page.getByRole('alert').filter({ hasText: 'Connexion impossible' }).waitFor()
    expect(await page.getByLabel('Décrivez votre plainte *').inputValue()).toBe(narrative)
    expect(await countCases()).toBe(before)

    await context.setOffline(false)
    await page.getByRole('button', { name: 'Envoyer la plainte' }).click()
    await page.getByTestId('receipt').waitFor()
    const anonymousRef = (await page.getByTestId('receipt-reference').textContent()) ?? ''
    expect(await page.getByText('Un accusé de réception vous a été envoyé.').count()).toBe(0)
    const row = await eventually(
      () =>
        stack.tdb.db
          .selectFrom('cases')
          .select(['id', 'areaCode'])
          .where('reference', '=', anonymousRef)
          .executeTakeFirst(),
      { what: 'the anonymous case' },
    )
    expect(row.areaCode).toMatch(/^ML-BKO-/)
    const contacts = await stack.tdb.db
      .selectFrom('complainantContacts')
      .select('caseId')
      .where('caseId', '=', row.id)
      .execute()
    expect(contacts).toEqual([])
  })

  it('stays light: each page loads compressed, far under the budget, and never loads the console', async () => {
    const pages = ['/', '/plainte/', '/suivi/']
    const fresh = await stack.browser.newContext({ viewport: { width: 360, height: 740 } })
    const weights: Record<string, number> = {}
    try {
      for (const path of pages) {
        const tab = await fresh.newPage()
        const seen: Promise<{ path: string; bytes: number; encoding?: string }>[] = []
        tab.on('requestfinished', (request) =>
          seen.push(
            Promise.all([request.sizes(), request.response()]).then(([sizes, response]) => ({
              path: new URL(request.url()).pathname,
              bytes: sizes.responseBodySize + sizes.responseHeadersSize,
              encoding: response?.headers()['content-encoding'],
            })),
          ),
        )
        await tab.goto(`${stack.url}${path}`, { waitUntil: 'networkidle' })
        const loaded = await Promise.all(seen)
        weights[path] = loaded.reduce((n, r) => n + r.bytes, 0)
        expect(loaded.filter((r) => r.path.startsWith('/admin'))).toEqual([])
        // Scripts and styles arrive compressed (Chromium accepts brotli).
        const assets = loaded.filter((r) => /\.(js|css)$/.test(r.path))
        expect(assets.length).toBeGreaterThan(0)
        expect(assets.filter((r) => r.encoding !== 'br')).toEqual([])
        await tab.close()
      }
    } finally {
      await fresh.close()
    }
    for (const path of pages) expect(weights[path]).toBeLessThan(PUBLIC_PAGE_BUDGET_BYTES)
    expect(transfers.filter((t) => t.path.startsWith('/admin'))).toEqual([])
  })
})
