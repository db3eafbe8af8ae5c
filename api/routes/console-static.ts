import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono, type MiddlewareHandler } from 'hono'
import { compress } from 'hono/compress'
import { uiDistDir } from '../../activities/infra/ui-build'

/** Shown at /admin/ when the console was never built (a clone without `npm start` or a build). */
const notBuiltPage = `<!doctype html>
<html lang="fr">
  <head><meta charset="utf-8" /><title>RSU Casework — console non construite</title></head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
    <h1>La console n'est pas encore construite</h1>
    <p>Construisez-la avec <code>npm run build:console</code> (ou lancez <code>npm start</code>, qui
    la construit au besoin), puis rechargez cette page.</p>
    <p lang="en"><small>The console is not built yet: run <code>npm run build:console</code>, then
    reload this page.</small></p>
  </body>
</html>
`

/**
 * Serves the built console (admin-ui/dist) at /admin/: the hashed files under /admin/assets/ are
 * cached for a year (their name changes with their content), everything else answers index.html,
 * never cached, so a client route (/admin/tasks/…) survives a reload and a new release is picked
 * up at once. Responses are compressed: agents work on slow connections. Without a build, a French
 * page says how to build it.
 */
export function consoleStaticRoutes(distDir: string = uiDistDir('console')) {
  const indexFile = path.join(distDir, 'index.html')
  let assets: MiddlewareHandler | undefined

  const index: MiddlewareHandler = async (c) => {
    if (!existsSync(indexFile)) {
      c.header('Cache-Control', 'no-store')
      return c.html(notBuiltPage)
    }
    c.header('Cache-Control', 'no-cache')
    return c.html(await readFile(indexFile, 'utf8'))
  }

  return new Hono()
    .use(compress())
    .get('/assets/*', async (c) => {
      if (!existsSync(indexFile)) return index(c, async () => {})
      // Created once the build exists (serveStatic complains about a missing root).
      assets ??= serveStatic({
        root: distDir,
        rewriteRequestPath: (p) => p.replace(/^\/admin/, ''),
      })
      const answer = await assets(c, async () => {})
      // Hashed names change with the content: the browser may keep them for good.
      if (answer?.ok) answer.headers.set('Cache-Control', 'public, max-age=31536000, immutable')
      // A missing asset is a 404, never index.html (a stale page must not run HTML as script).
      return answer ?? c.text('Not found', 404)
    })
    .get('/', index)
    .get('/*', index)
}
