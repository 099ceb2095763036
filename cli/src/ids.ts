import * as v from 'valibot'
import { CliError } from './errors.ts'

const uuid = v.pipe(v.string(), v.uuid())

/** Checks an id argument before it goes to the API, with a hint where to find real ones. */
export function checkId(id: string, kind: 'zap' | 'run') {
  if (v.is(uuid, id)) return id
  throw new CliError(`"${id}" is not a ${kind} id (ids look like 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11). List them with: zap ${kind}s list`)
}
