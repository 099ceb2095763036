import * as v from 'valibot'

/** Whether an ISO date or timestamp names a day that exists (no Feb 30) in years 1 to 9999, which PostgreSQL can store. */
export function isRealDate(text: string) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text)
  if (!match) return false
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number]
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeapYear(year) ? 1 : 0)
  const utcYear = new Date(Date.parse(text)).getUTCFullYear()
  return day <= daysInMonth && utcYear >= 1 && utcYear <= 9999
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const timeMessage = 'Expected an ISO timestamp such as 2026-11-25T10:00:00Z'

/** An ISO timestamp of a real date, as a Date. */
export const isoTime = v.pipe(v.string(), v.isoTimestamp(timeMessage), v.check(isRealDate, timeMessage), v.transform((text) => new Date(text)))
