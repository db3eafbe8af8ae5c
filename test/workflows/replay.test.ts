import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker'
import { describe, expect, inject, it } from 'vitest'
import { encryptedDataConverter } from '../../activities/infra/temporal-client'
import { testCodec } from '../helpers/codec'

/**
 * Recorded histories of real cases (test/histories, `npm run histories:record`) replayed against
 * the current workflow code: a change that would break a running case fails here, in CI, not in
 * production. Histories are encrypted with the public test key.
 */
const dir = fileURLToPath(new URL('../histories', import.meta.url))
const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()
try {
  Runtime.install({ logger: new DefaultLogger('WARN') })
} catch {
  // Already installed by another test of this process.
}
const dataConverter = encryptedDataConverter(testCodec)

describe('recorded grievance histories', () => {
  it('are there to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3)
  })

  it.each(files)('%s replays on the current workflow code', async (file) => {
    const history = JSON.parse(await readFile(path.join(dir, file), 'utf8'))
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter },
      history,
    )
  })

  it('would catch an incompatible change (negative control)', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('./fixtures/incompatible-grievance.ts', import.meta.url),
      ),
      logger: new DefaultLogger('WARN'),
    })
    const history = JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8'))
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history),
    ).rejects.toThrow(/[Nn]ondetermin/)
  })
})
