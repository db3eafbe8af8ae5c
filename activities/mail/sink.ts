import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import path from 'node:path'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { html } from 'hono/html'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { Logger } from '../infra/logger'
import { listenOrExplain } from '../infra/ports'

export interface SinkMessage {
  id: string
  receivedAt: string
  messageId?: string
  from: string
  to: string[]
  subject: string
  text: string
}

export interface MailSink {
  smtpUrl: string
  uiUrl?: string
  /** Messages received so far, oldest first (also those of earlier runs: they are kept on disk). */
  messages(): SinkMessage[]
  stop(): Promise<void>
}

/**
 * The embedded default for SMTP: accepts every message on localhost, keeps it as an .eml file in
 * `dir`, and shows the received mail on a small web page (and as JSON at /messages.json).
 */
export async function startMailSink(options: {
  host: string
  smtpPort: number
  /** Port of the web page; `undefined` runs without it. */
  uiPort?: number
  dir: string
  log: Logger
}): Promise<MailSink> {
  const { host, dir, log } = options
  await mkdir(dir, { recursive: true })
  const inbox: SinkMessage[] = []
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort()) {
    inbox.push(await parse(file.replace(/\.eml$/, ''), await readFile(path.join(dir, file))))
  }
  let counter = inbox.length

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    banner: 'RSU Casework mail sink',
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks)
        const id = `${Date.now()}-${String(++counter).padStart(6, '0')}`
        writeFile(path.join(dir, `${id}.eml`), raw)
          .then(() => parse(id, raw))
          .then((message) => {
            inbox.push(message)
            log.debug({ id, messageId: message.messageId }, 'mail sink received a message')
            callback()
          })
          .catch((error: Error) => callback(error))
      })
    },
  })
  // A client that drops its connection (a worker killed mid-send) must not stop the sink:
  // without a listener, the server's 'error' event would end the whole process.
  smtp.on('error', (error: Error) => log.warn({ err: error }, 'mail sink: SMTP connection error'))
  const smtpPort = await listenOrExplain(smtp.server, host, {
    port: options.smtpPort,
    purpose: 'the mail sink (SMTP_PORT)',
  })

  let web: Server | undefined
  let uiUrl: string | undefined
  if (options.uiPort !== undefined) {
    web = createAdaptorServer({ fetch: sinkPage(() => inbox).fetch }) as Server
    const uiPort = await listenOrExplain(web, host, {
      port: options.uiPort,
      purpose: 'the mail sink page (MAIL_UI_PORT)',
    })
    uiUrl = `http://${host}:${uiPort}`
  }
  let stopping: Promise<void> | undefined
  return {
    smtpUrl: `smtp://${host}:${smtpPort}`,
    uiUrl,
    messages: () => [...inbox],
    stop: () =>
      (stopping ??= Promise.all([
        new Promise<void>((resolve) => smtp.close(() => resolve())),
        web
          ? new Promise<void>((resolve) => {
              web.closeAllConnections()
              web.close(() => resolve())
            })
          : undefined,
      ]).then(() => undefined)),
  }
}

async function parse(id: string, raw: Buffer): Promise<SinkMessage> {
  const mail = await simpleParser(raw)
  const addresses = (value: typeof mail.to) =>
    (Array.isArray(value) ? value : value ? [value] : []).flatMap((a) =>
      a.value.map((v) => v.address ?? ''),
    )
  return {
    id,
    receivedAt: (mail.date ?? new Date()).toISOString(),
    messageId: mail.messageId,
    from: mail.from?.text ?? '',
    to: addresses(mail.to),
    subject: mail.subject ?? '',
    text: mail.text ?? '',
  }
}

/** The sink's page, in French: what an operator trying the system locally reads. */
function sinkPage(inbox: () => SinkMessage[]) {
  const layout = (title: string, body: unknown) =>
    html`<!doctype html>
      <html lang="fr">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>${title}</title>
          <style>
            body {
              font-family: system-ui, sans-serif;
              margin: 1.5rem;
              color: #1b1b1b;
            }
            table {
              border-collapse: collapse;
              width: 100%;
            }
            td,
            th {
              text-align: left;
              padding: 0.4rem;
              border-bottom: 1px solid #ddd;
            }
            pre {
              white-space: pre-wrap;
              background: #f6f6f6;
              padding: 1rem;
            }
          </style>
        </head>
        <body>
          ${body}
        </body>
      </html>`
  return new Hono()
    .get('/', (c) => {
      const messages = inbox().slice().reverse()
      return c.html(
        layout(
          'Courriels reçus',
          html`<h1>Courriels reçus (${messages.length})</h1>
            <p>Boîte de test locale : aucun courriel ne quitte cette machine.</p>
            <table>
              <tr>
                <th>Reçu le</th>
                <th>Destinataires</th>
                <th>Objet</th>
              </tr>
              ${messages.map(
                (m) =>
                  html`<tr>
                    <td>${m.receivedAt}</td>
                    <td>${m.to.join(', ')}</td>
                    <td><a href="/messages/${m.id}">${m.subject || '(sans objet)'}</a></td>
                  </tr>`,
              )}
            </table>`,
        ),
      )
    })
    .get('/messages.json', (c) => c.json(inbox()))
    .get('/messages/:id', (c) => {
      const message = inbox().find((m) => m.id === c.req.param('id'))
      if (!message) return c.html(layout('Introuvable', html`<p>Message introuvable.</p>`), 404)
      return c.html(
        layout(
          message.subject,
          html`<p><a href="/">← Tous les courriels</a></p>
            <h1>${message.subject}</h1>
            <p>
              De : ${message.from}<br />À : ${message.to.join(', ')}<br />Reçu le :
              ${message.receivedAt}
            </p>
            <pre>${message.text}</pre>`,
        ),
      )
    })
}
