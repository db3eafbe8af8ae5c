import type { ColumnType } from 'kysely'

/** Column types shared by the `*.table.ts` files. */

export type Timestamp = ColumnType<Date, Date | string, Date | string>
/** A timestamp the database fills by default (`now()`) when the insert leaves it out. */
export type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
/** jsonb: postgres.js serialises objects itself, so values are passed as objects, not strings. */
export type Json = ColumnType<unknown, object, object>
/** A nullable text column added by a later migration (inserts may leave it out). */
export type OptionalText = ColumnType<string | null, string | null | undefined, string | null>
