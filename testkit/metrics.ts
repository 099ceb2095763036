import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format'

export type Scrape = { families: MetricFamily[]; value: (name: string, labels?: Record<string, string>) => number; samples: (name: string) => { labels: Record<string, string>; value: number }[] }

/** Scrapes `<url>/metrics` and parses the Prometheus text format; a sample not there reads as 0, a histogram is read by its `_count`. */
export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`)
  if (!response.ok) throw new Error(`GET ${url}/metrics answered ${response.status}`)
  if (!response.headers.get('content-type')?.startsWith('text/plain')) throw new Error(`GET ${url}/metrics is ${response.headers.get('content-type')}, not the text format`)
  const text = await response.text()
  // The parser folds a labelled histogram into one sample without labels; read without its TYPE line, its
  // `_count`, `_sum` and `_bucket` lines come out as plain families (one per run of lines) with their labels.
  const series = parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram$/gm, ''))
  const samples = (name: string) =>
    series
      .filter((family) => family.name === name)
      .flatMap((family) => family.metrics.map((sample) => ({ labels: sample.labels ?? {}, value: Number(sample.value) })))
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples(name)
      .filter((sample) => Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))
      .reduce((sum, sample) => sum + sample.value, 0)
  return { families: series, value, samples }
}
