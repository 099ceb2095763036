import * as v from 'valibot'

export const uuid = v.pipe(v.string(), v.uuid('Expected an id such as 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11'))

export const idParams = v.object({ id: uuid })
