import type { ReactNode } from 'react'
import { Layout } from 'react-admin'
import { RsuMenu } from './Menu'

/** react-admin's layout with the menu that follows the user's roles. */
export function RsuLayout({ children }: { children: ReactNode }) {
  return <Layout menu={RsuMenu}>{children}</Layout>
}
