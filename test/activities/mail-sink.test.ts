import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import nodemailer from 'nodemailer'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { startMailSink } from '../../activities/mail/sink'

const log = createLogger('silent', false)
const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

describe('the embedded mail sink', () => {
  it('receives mail over SMTP, shows it on its page, and keeps it across a restart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rsu-mail-'))
    dirs.push(dir)
    const sink = await startMailSink({ host: '127.0.0.1', smtpPort: 0, uiPort: 0, dir, log })
    const transport = nodemailer.createTransport(sink.smtpUrl)
    await transport.sendMail({
      from: 'RSU Casework <no-reply@rsu.localhost>',
      to: 'agent.kati.1@rsu.localhost',
      subject: 'Nouvelle tâche : dossier G-0001',
      text: 'Une tâche vous attend.',
      messageId: '<case-G-0001.1@rsu.localhost>',
    })
    transport.close()

    const page = await fetch(sink.uiUrl!)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Nouvelle tâche : dossier G-0001')
    const listed = await (await fetch(`${sink.uiUrl}/messages.json`)).json()
    expect(listed).toMatchObject([
      { to: ['agent.kati.1@rsu.localhost'], messageId: '<case-G-0001.1@rsu.localhost>' },
    ])
    await sink.stop()

    const again = await startMailSink({ host: '127.0.0.1', smtpPort: 0, dir, log })
    expect(again.messages().map((m) => m.subject)).toEqual(['Nouvelle tâche : dossier G-0001'])
    await again.stop()
  })
})
