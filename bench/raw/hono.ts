import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'

/**
 * The raw Hono baseline (`bench/raw/hono.ts <host> <port>`): a handler returning a constant, on
 * the same server adapter as our API.
 */
const [host = '127.0.0.1', port = '0'] = process.argv.slice(2)
const app = new Hono().get('/', (c) => c.json({ ok: true }))
const server = createAdaptorServer({ fetch: app.fetch }) as Server
server.listen(Number(port), host, () => {
  process.stdout.write(`raw hono listening\n`)
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
