/**
 * The size of `value` as stored (UTF-8 bytes of its JSON, strings counted without escapes), counted
 * only until it passes `limit`: a huge value costs no more than `limit` to measure.
 */
export function jsonSize(value: unknown, limit: number): number {
  let size = 0
  const pending: unknown[] = [value]
  while (pending.length > 0 && size <= limit) {
    const item = pending.pop()
    if (typeof item === 'string') {
      // UTF-8 never takes fewer bytes than UTF-16 code units, so a long string is over without counting.
      size += item.length > limit ? item.length : Buffer.byteLength(item) + 2
    } else if (Array.isArray(item)) {
      size += 2 + Math.max(item.length - 1, 0)
      for (let index = item.length - 1; index >= 0 && size <= limit; index--) pending.push(item[index])
    } else if (item !== null && typeof item === 'object') {
      size += 2
      let separator = 0
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue
        size += Buffer.byteLength(key) + 3 + separator
        separator = 1
        if (size > limit) break
        pending.push((item as Record<string, unknown>)[key])
      }
    } else {
      size += String(item).length
    }
  }
  return size
}

/** The start of `value`'s JSON text, at most `maxChars` characters (then "…"), without serialising the rest. */
export function jsonPreview(value: unknown, maxChars: number): string {
  let text = ''
  const write = (item: unknown) => {
    if (text.length > maxChars) return
    if (typeof item === 'string') {
      text += JSON.stringify(item.length > maxChars ? item.slice(0, maxChars) : item)
    } else if (Array.isArray(item)) {
      text += '['
      for (let index = 0; index < item.length && text.length <= maxChars; index++) {
        if (index > 0) text += ','
        write(item[index])
      }
      text += ']'
    } else if (item !== null && typeof item === 'object') {
      text += '{'
      let first = true
      for (const key in item) {
        if (text.length > maxChars) break
        if (!Object.hasOwn(item, key)) continue
        text += `${first ? '' : ','}${JSON.stringify(key.slice(0, maxChars))}:`
        first = false
        write((item as Record<string, unknown>)[key])
      }
      text += '}'
    } else {
      text += JSON.stringify(item) ?? 'null'
    }
  }
  write(value)
  return truncateText(text, maxChars)
}

/** `text` cut to `maxChars` characters with "…", never splitting a surrogate pair (PostgreSQL refuses a lone one). */
export const truncateText = (text: string, maxChars: number) => (text.length > maxChars ? `${text.slice(0, maxChars).toWellFormed()}…` : text)
