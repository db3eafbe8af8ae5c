import { DefaultLogger, Runtime } from '@temporalio/worker'
import type { Logger } from './infra/logger'

let installed = false

/** Routes the Temporal SDK's own logs (warnings and errors) into our logger. Once per process. */
export function installTemporalRuntime(log: Logger): void {
  if (installed) return
  installed = true
  Runtime.install({
    // Our shutdown sequence (activities/shutdown.ts) owns SIGINT/SIGTERM: it stops the API, then
    // the worker, then the embedded services, in that order.
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', (entry) => {
      const level = entry.level === 'ERROR' ? 'error' : 'warn'
      log[level]({ temporal: entry.meta }, entry.message)
    }),
  })
}
