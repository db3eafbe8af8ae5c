import { existsSync } from 'node:fs'
import path from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono, type MiddlewareHandler } from 'hono'
import { uiDistDir } from '../../activities/infra/ui-build'

/** The public pages, by address: home, submit a grievance, follow a grievance. */
export const publicPagePaths = ['/', '/plainte/', '/suivi/'] as const

/**
 * The public pages (public-ui/dist) at the root of the site, for members of the public on a phone:
 * precompressed files (brotli or gzip, as the browser accepts), hashed assets cached for a year,
 * pages revalidated on every visit so a new release shows at once. Before the pages are built, the
 * home page says how to build them.
 */
export function publicPages(dir = uiDistDir('public')) {
  const pages = new Hono()
  const notBuilt = () => !existsSync(path.join(dir, 'index.html'))
  // Created once the build exists: serveStatic complains about a missing root.
  let html: MiddlewareHandler | undefined
  let assets: MiddlewareHandler | undefined
  const files = (cacheControl: string): MiddlewareHandler => {
    const serve = serveStatic({ root: dir, precompressed: true })
    return async (c, next) => {
      const answer = await serve(c, next)
      if (answer instanceof Response && answer.ok) answer.headers.set('Cache-Control', cacheControl)
      return answer
    }
  }
  for (const page of publicPagePaths) {
    pages.get(page, async (c, next) => {
      if (notBuilt()) {
        return c.text(
          'The public pages are not built yet: run `npm run build:public` (npm start and npm test build them).',
          503,
        )
      }
      html ??= files('no-cache')
      return html(c, next)
    })
    // `/plainte` and `/suivi` without the final slash, as people type them.
    if (page !== '/') {
      pages.get(page.slice(0, -1), (c) => {
        const query = c.req.url.indexOf('?')
        return c.redirect(`${page}${query >= 0 ? c.req.url.slice(query) : ''}`, 301)
      })
    }
  }
  pages.get('/assets/*', (c, next) => {
    // File names carry a hash of their content: a new build has new names.
    assets ??= files('public, max-age=31536000, immutable')
    return assets(c, next)
  })
  return pages
}
