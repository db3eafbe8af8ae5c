import net from 'node:net'
import { StartupError } from './errors'

/** Resolves with a port the OS considers free on `host` right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

export interface PortClaim {
  port: number
  /** What the port is for, and the variable that moves it, e.g. "API (API_PORT)". */
  purpose: string
}

/**
 * Checks every fixed port before anything starts, so a port in use is reported in a second
 * instead of after minutes of start-up. Port 0 means "any free port" and is skipped.
 */
export async function assertPortsFree(host: string, claims: PortClaim[]): Promise<void> {
  for (const claim of claims) {
    if (claim.port === 0) continue
    if (!(await isFree(host, claim.port))) throw portInUse(host, claim)
  }
}

export function portInUse(host: string, claim: PortClaim): StartupError {
  return new StartupError(
    'PORT_IN_USE',
    `port ${claim.port} on ${host} is already in use, needed for ${claim.purpose}: stop the other process or choose another port`,
  )
}

/** Listens with `listen` and turns EADDRINUSE into the same one-line StartupError. */
export async function listenOrExplain(
  server: net.Server,
  host: string,
  claim: PortClaim,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(host, claim) : error)
    server.once('error', onError)
    server.listen(claim.port, host, () => {
      server.off('error', onError)
      resolve((server.address() as net.AddressInfo).port)
    })
  })
}
