import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export type SmtpMode = 'accept' | 'temporary' | 'permanent'

/**
 * An SMTP server the test controls: accepts, answers temporary (451) or permanent (550)
 * errors to every recipient, or is stopped (`down()`) and started again on the same port.
 * Keeps the Message-ID of every message it accepted.
 */
export class FaultySmtp {
  mode: SmtpMode = 'accept'
  readonly received: { messageId?: string; raw: string }[] = []
  /** RCPT TO commands seen, accepted or not: attempts the application made. */
  attempts = 0
  private server?: SMTPServer
  port = 0

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`
  }

  async up(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (_address, _session, callback) => {
        this.attempts += 1
        if (this.mode === 'accept') return callback()
        const error = Object.assign(
          new Error(this.mode === 'temporary' ? 'Try again later' : 'Mailbox unavailable'),
          { responseCode: this.mode === 'temporary' ? 451 : 550 },
        )
        callback(error)
      },
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8')
          this.received.push({ raw, messageId: /^Message-ID:\s*(\S+)/im.exec(raw)?.[1] })
          callback()
        })
      },
    })
    // A client killed mid-conversation must not end the test process.
    server.on('error', () => undefined)
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()))
    this.port = (server.server.address() as AddressInfo).port
    this.server = server
    return this
  }

  /** Stops listening: connections are refused until `up()` (same port). */
  async down(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
