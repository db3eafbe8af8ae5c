import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { screenshotDir } from '../helpers/browser'
import { repoRoot } from '../helpers/processes'

describe('the browser tests under npm test', () => {
  it('save their screenshots where git ignores them, so a test run leaves the clone clean', () => {
    const shot = path.relative(repoRoot, path.join(screenshotDir(), 'public-home.png'))
    expect(shot).not.toMatch(/^docs\//)
    // `git check-ignore` exits 0 (and prints the path) only for an ignored path.
    expect(execFileSync('git', ['check-ignore', shot], { cwd: repoRoot, encoding: 'utf8' })).toBe(
      `${shot}\n`,
    )
  })
})
