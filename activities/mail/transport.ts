import nodemailer from 'nodemailer'

/**
 * The SMTP transport. Timeouts are bounded: an outbox row stays locked while it is sent, and a
 * mail server that stops answering must fail the attempt, not hold it for nodemailer's 10 minutes.
 */
export function createMailTransport(smtpUrl: string) {
  return nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  })
}
