import type { Algorithm } from '@node-rs/argon2'

// Algorithm is a const enum the package does not ship as a value: 2 is Argon2id.
export const ARGON2ID = 2 as Algorithm.Argon2id
