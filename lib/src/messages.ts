import * as v from 'valibot'

/** What the outbox hands to workers: run this step of this run, as this attempt. */
export const stepMessage = v.object({
  runId: v.pipe(v.string(), v.uuid()),
  stepIndex: v.pipe(v.number(), v.integer(), v.minValue(0)),
  attempt: v.pipe(v.number(), v.integer(), v.minValue(1)),
  replay: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
})

/** `traceParent`, the run's trace context while tracing is on, travels in the Kafka message's headers. */
export type StepMessage = v.InferOutput<typeof stepMessage> & { traceParent?: string | null }

/** How the processor hands step messages to workers: Kafka in the real stack. */
export type Transport = {
  publish(messages: StepMessage[]): Promise<void>
}
