import { fileURLToPath } from 'node:url'
import { NativeConnection, Worker } from '@temporalio/worker'

/** Activities of the raw baseline: nothing at all. */
export const rawActivities = {
  async nothing(): Promise<void> {},
}

/**
 * A minimal worker (`bench/raw/worker.ts <address> <taskQueue>`): the raw workflows, no data
 * converter, no database. SIGTERM stops it (the SDK's default shutdown signals).
 */
async function main() {
  const [address, taskQueue] = process.argv.slice(2)
  if (!address || !taskQueue) throw new Error('usage: raw/worker.ts <address> <taskQueue>')
  const connection = await NativeConnection.connect({ address })
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    activities: rawActivities,
  })
  process.stdout.write('raw worker running\n')
  await worker.run()
  await connection.close()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  })
}
