import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { listenOrExplain } from '../activities/infra/ports'
import type { createApp } from './app'

export interface ApiServer {
  url: string
  close(): Promise<void>
}

/** Serves the app on host:port (0 for any free port), reporting a port in use as one line. */
export async function serveApi(
  app: ReturnType<typeof createApp>,
  host: string,
  port: number,
): Promise<ApiServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server
  const bound = await listenOrExplain(server, host, { port, purpose: 'the API (API_PORT)' })
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeIdleConnections()
        server.close(() => resolve())
        // Requests still running get a moment to finish, then their sockets are closed.
        setTimeout(() => server.closeAllConnections(), 2_000).unref()
      }),
  }
}
