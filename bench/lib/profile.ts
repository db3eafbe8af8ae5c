import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'

interface CpuProfile {
  nodes: { id: number; callFrame: { url: string; functionName: string } }[]
  samples: number[]
  timeDeltas: number[]
}

/** Where a function lives: a package, our own folder, Node itself, or the VM. */
function owner(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'GC' : fn.startsWith('(') ? fn : 'native'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  if (url.startsWith('node:')) return url
  const own = /\/(activities|api|workflows|bench|migrations)\//.exec(url)
  return own ? `ours: ${own[1]}/` : url
}

/**
 * Self time in the `.cpuprofile` files (written by `--cpu-prof`) of each process directory in
 * `dir`, all threads together, grouped by package or folder: where a process spends its CPU.
 */
export async function summarizeProfiles(dir: string) {
  const out: Record<string, { totalSec: number; threads: number; top: [string, number][] }> = {}
  for (const proc of await readdir(dir).catch(() => [] as string[])) {
    const files = (await readdir(path.join(dir, proc)).catch(() => [] as string[])).filter((f) =>
      f.endsWith('.cpuprofile'),
    )
    if (files.length === 0) continue
    const self = new Map<string, number>()
    let total = 0
    for (const file of files) {
      const profile = JSON.parse(await readFile(path.join(dir, proc, file), 'utf8')) as CpuProfile
      const byId = new Map(profile.nodes.map((n) => [n.id, n]))
      profile.samples.forEach((id, i) => {
        const node = byId.get(id)
        if (!node || node.callFrame.functionName === '(idle)') return
        const us = profile.timeDeltas[i] ?? 0
        total += us
        const key = owner(node.callFrame.url, node.callFrame.functionName)
        self.set(key, (self.get(key) ?? 0) + us)
      })
    }
    out[proc] = {
      totalSec: Math.round(total / 1e4) / 100,
      threads: files.length,
      top: [...self.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 15)
        .map(([k, us]) => [k, Math.round((us / Math.max(1, total)) * 1000) / 10]),
    }
  }
  return out
}
