import { lazy, Suspense, type ComponentType } from 'react'
import { Loading } from 'react-admin'

/** A lazily loaded page (its code arrives when first opened), with react-admin's spinner meanwhile. */
export function Lazy({ component: Component }: { component: ComponentType }) {
  return (
    <Suspense fallback={<Loading />}>
      <Component />
    </Suspense>
  )
}

/** A page whose code is fetched when first opened, as a component react-admin can mount. */
export const lazyPage = (load: () => Promise<{ default: ComponentType }>) => {
  const Component = lazy(load)
  return function LazyPage() {
    return <Lazy component={Component} />
  }
}
