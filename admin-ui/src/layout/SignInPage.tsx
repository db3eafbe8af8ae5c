import { Box, Button, Card, CardContent, TextField, Typography } from '@mui/material'
import { useState, type FormEvent } from 'react'
import { useLogin, useNotify, useTranslate } from 'react-admin'
import { SecondFactorNeeded } from '../authProvider'

/**
 * Sign-in in two steps: username and password, then, when the account needs it (supervisors,
 * programme managers, administrators), the 6-digit code of an authenticator app; at the first
 * sign-in the page shows the otpauth:// address to enrol the app.
 */
export function SignInPage() {
  const translate = useTranslate()
  const login = useLogin()
  const notify = useNotify()
  const [step, setStep] = useState<'password' | 'code'>('password')
  const [totpUri, setTotpUri] = useState<string>()
  const [busy, setBusy] = useState(false)

  const fail = (error: unknown) => {
    const message = error instanceof Error ? error.message : 'errors.INTERNAL'
    notify(message.startsWith('errors.') ? message : 'rsu.auth.failed', { type: 'error' })
  }

  const submitPassword = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setBusy(true)
    try {
      await login({ username: form.get('username'), password: form.get('password') })
    } catch (error) {
      if (error instanceof SecondFactorNeeded) {
        setTotpUri(error.totpUri)
        setStep('code')
      } else fail(error)
    } finally {
      setBusy(false)
    }
  }

  const submitCode = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setBusy(true)
    try {
      await login({ code: String(form.get('code') ?? '').trim() })
    } catch (error) {
      fail(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', mt: 8, px: 2 }}>
      <Card sx={{ maxWidth: 420, width: '100%' }}>
        <CardContent>
          <Typography variant="h5" component="h1" gutterBottom>
            {translate('rsu.auth.title')}
          </Typography>
          {step === 'password' ? (
            <form onSubmit={submitPassword} aria-label={translate('rsu.auth.title')}>
              <TextField
                name="username"
                label={translate('rsu.auth.username')}
                autoComplete="username"
                required
                fullWidth
                margin="normal"
                slotProps={{ htmlInput: { 'data-testid': 'sign-in-username' } }}
              />
              <TextField
                name="password"
                type="password"
                label={translate('rsu.auth.password')}
                autoComplete="current-password"
                required
                fullWidth
                margin="normal"
                slotProps={{ htmlInput: { 'data-testid': 'sign-in-password' } }}
              />
              <Button
                type="submit"
                variant="contained"
                fullWidth
                disabled={busy}
                data-testid="sign-in-submit"
                sx={{ mt: 2 }}
              >
                {translate('rsu.auth.sign_in')}
              </Button>
            </form>
          ) : (
            <form onSubmit={submitCode} aria-label={translate('rsu.auth.second_factor')}>
              <Typography variant="body2" gutterBottom>
                {translate(totpUri ? 'rsu.auth.enrol_help' : 'rsu.auth.code_help')}
              </Typography>
              {totpUri && (
                <Typography
                  variant="body2"
                  component="code"
                  sx={{ wordBreak: 'break-all', display: 'block', my: 1 }}
                  data-testid="sign-in-totp-uri"
                >
                  {totpUri}
                </Typography>
              )}
              <TextField
                name="code"
                label={translate('rsu.auth.code')}
                autoComplete="one-time-code"
                required
                fullWidth
                margin="normal"
                slotProps={{
                  htmlInput: {
                    inputMode: 'numeric',
                    pattern: '[0-9]{6}',
                    maxLength: 6,
                    'data-testid': 'sign-in-code',
                  },
                }}
              />
              <Button
                type="submit"
                variant="contained"
                fullWidth
                disabled={busy}
                data-testid="sign-in-code-submit"
                sx={{ mt: 2 }}
              >
                {translate('rsu.auth.verify')}
              </Button>
            </form>
          )}
        </CardContent>
      </Card>
    </Box>
  )
}
