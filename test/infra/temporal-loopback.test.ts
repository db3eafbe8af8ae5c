import { describe, expect, it } from 'vitest'
import { loopbackHost } from '../../activities/infra/temporal-server'

/**
 * The embedded dev server takes any command from anyone who reaches it: with HOST=0.0.0.0 (the
 * API open to the network) it must still listen on this machine only (issue 15, item 2).
 */
describe('the embedded Temporal dev server', () => {
  it('listens on loopback whatever HOST says', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'rsu.example.ml'])
      expect(loopbackHost(host)).toBe('127.0.0.1')
  })
  it('keeps a loopback HOST as it is', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost'])
      expect(loopbackHost(host)).toBe(host)
  })
})
