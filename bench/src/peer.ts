export type PeerPhase = { offeredRate: number | 'max'; accepted: number; perSecond: number; p50: number; p99: number }
export type PeerResult = { skipped: string } | { version: string; ingestion: { perSecond: number; p50: number; p99: number }; endToEnd: PeerPhase[]; note: string }

export async function measurePeer(_options: { connections: number; seconds: number; rates: number[]; log: (line: string) => void }): Promise<PeerResult> {
  return { skipped: 'not yet' }
}
