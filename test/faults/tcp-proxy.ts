import net from 'node:net'

export type ProxyMode = 'pass' | 'silent'

interface Pair {
  client: net.Socket
  upstream?: net.Socket
  /** Bytes held while the proxy is silent, by direction. */
  toUpstream: Buffer[]
  toClient: Buffer[]
}

/**
 * A TCP proxy the test controls, between the application and a server (PostgreSQL): `pass`
 * forwards bytes both ways; `silent()` stops answering (connections stay open, nothing is
 * forwarded, new connections are accepted and held), which is what a hung server or a
 * black-holed network looks like; `pass()` delivers what was held; `drop()` cuts every
 * connection at once.
 */
export class TcpProxy {
  private mode: ProxyMode = 'pass'
  private readonly pairs = new Set<Pair>()
  private server?: net.Server
  port = 0

  constructor(
    private target: { host: string; port: number },
    private readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => this.accept(client))
    await new Promise<void>((resolve) => this.server!.listen(0, this.host, resolve))
    this.port = (this.server.address() as net.AddressInfo).port
    return this
  }

  /** `postgres://…` with the proxy's address instead of the server's. */
  url(of: string): string {
    const url = new URL(of)
    url.hostname = this.host
    url.port = String(this.port)
    return url.toString()
  }

  get connections(): number {
    return this.pairs.size
  }

  /** Local ports of the proxy's connections to the server: `client_port` in pg_stat_activity. */
  upstreamPorts(): number[] {
    return [...this.pairs].flatMap((p) =>
      p.upstream && !p.upstream.destroyed && p.upstream.localPort ? [p.upstream.localPort] : [],
    )
  }

  /** New connections go to `port` (a server started again elsewhere). */
  retarget(port: number): void {
    this.target = { ...this.target, port }
  }

  silent(): void {
    this.mode = 'silent'
  }

  pass(): void {
    this.mode = 'pass'
    for (const pair of this.pairs) {
      if (!pair.upstream) this.connectUpstream(pair)
      this.flush(pair)
    }
  }

  /** Cuts every open connection (both sides), as a network failure or a server restart does. */
  drop(): void {
    for (const pair of this.pairs) {
      pair.client.destroy()
      pair.upstream?.destroy()
    }
    this.pairs.clear()
  }

  async stop(): Promise<void> {
    this.drop()
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    )
  }

  private accept(client: net.Socket): void {
    const pair: Pair = { client, toUpstream: [], toClient: [] }
    this.pairs.add(pair)
    const end = () => {
      this.pairs.delete(pair)
      client.destroy()
      pair.upstream?.destroy()
    }
    client.on('error', end)
    client.on('close', end)
    client.on('data', (chunk: Buffer) => {
      pair.toUpstream.push(chunk)
      this.flush(pair)
    })
    if (this.mode === 'pass') this.connectUpstream(pair)
  }

  private connectUpstream(pair: Pair): void {
    const upstream = net.connect(this.target.port, this.target.host)
    pair.upstream = upstream
    const end = () => {
      this.pairs.delete(pair)
      upstream.destroy()
      pair.client.destroy()
    }
    upstream.on('error', end)
    upstream.on('close', end)
    upstream.on('data', (chunk: Buffer) => {
      pair.toClient.push(chunk)
      this.flush(pair)
    })
  }

  private flush(pair: Pair): void {
    if (this.mode !== 'pass' || !pair.upstream) return
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk)
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk)
  }
}
