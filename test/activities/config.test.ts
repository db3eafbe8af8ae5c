import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../activities/config'
import { StartupError } from '../../activities/infra/errors'

const load = (env: Record<string, string>) => loadConfig(env, { inherit: false })

function failure(env: Record<string, string>): StartupError {
  try {
    load(env)
  } catch (error) {
    if (error instanceof StartupError) return error
    throw error
  }
  throw new Error('configuration was accepted')
}

describe('configuration', () => {
  it('partner webhooks: http only on the embedded default, an allow-list when set', () => {
    expect(load({}).partnerWebhooks).toEqual({ httpsOnly: false, allowedHosts: [] })
    expect(load({ DATABASE_URL: 'postgres://u@db.example.ml/rsu' }).partnerWebhooks.httpsOnly).toBe(
      true,
    )
    expect(load({ TEMPORAL_ADDRESS: 'temporal.example.ml:7233' }).partnerWebhooks.httpsOnly).toBe(
      true,
    )
    expect(
      load({ PARTNER_WEBHOOK_HOSTS: 'Hooks.Unicef.org, *.ngo.ml' }).partnerWebhooks.allowedHosts,
    ).toEqual(['hooks.unicef.org', '*.ngo.ml'])
    expect(() => load({ PARTNER_WEBHOOK_HOSTS: 'https://hooks.unicef.org/x' })).toThrow(
      /PARTNER_WEBHOOK_HOSTS must be host names/,
    )
  })

  it('runs on embedded defaults when nothing is set', () => {
    const config = load({})
    expect(config.database.url).toBeUndefined()
    expect(config.temporal.address).toBeUndefined()
    expect(config.mail.smtpUrl).toBeUndefined()
    expect(config.api.port).toBe(3000)
    expect(config.temporal).toMatchObject({ namespace: 'default', port: 7233, uiPort: 8233 })
    expect(config.cacheDir).toMatch(/rsu-casework$/)
    expect(Object.isFrozen(config.temporal)).toBe(true)
  })

  it('names a malformed DATABASE_URL in one line, without echoing the password', () => {
    const error = failure({ DATABASE_URL: 'postgres//rsu:s3cret@db:5432' })
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.message).toContain('DATABASE_URL must be a URL like postgres://')
    expect(error.message).not.toContain('s3cret')
    expect(error.message).not.toContain('\n')
  })

  it('reports every bad variable at once', () => {
    const error = failure({
      TEMPORAL_ADDRESS: 'http://temporal',
      API_PORT: '99999',
      SEED_DEMO: 'maybe',
    })
    expect(error.message).toContain('TEMPORAL_ADDRESS must be host:port')
    expect(error.message).toContain('API_PORT')
    expect(error.message).toContain('SEED_DEMO must be true or false')
  })

  it('requires a client certificate and its key together', () => {
    expect(failure({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT: '/c.pem' }).message).toContain(
      'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY',
    )
  })

  it('takes a cluster, TLS and an API key for production', () => {
    const config = load({
      TEMPORAL_ADDRESS: 'rsu.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'rsu.a1b2c',
      TEMPORAL_API_KEY: 'key',
      DATABASE_URL: 'postgresql://rsu@db.internal:5432/rsu',
      SMTP_URL: 'smtps://mailer:pw@smtp.example.ml:465',
    })
    expect(config.temporal).toMatchObject({ address: 'rsu.a1b2c.tmprl.cloud:7233', apiKey: 'key' })
    expect(config.database.url).toBe('postgresql://rsu@db.internal:5432/rsu')
    expect(config.mail.smtpUrl).toBe('smtps://mailer:pw@smtp.example.ml:465')
  })
})
