// autocannon ships no types and @types/autocannon is not a dependency: the little we use.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'
  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    headers?: Record<string, string>
    method?: string
    body?: string
  }
  interface Result {
    requests: { average: number; total: number }
    latency: { p50: number; p99: number; average: number; max: number }
    errors: number
    timeouts: number
    non2xx: number
    duration: number
  }
  interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void
  }
  function autocannon(options: Options): Instance
  export default autocannon
}
