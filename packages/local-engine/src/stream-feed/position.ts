/**
 * Where a feed is in its table's stream: the last sequence number handled (or dropped). A named
 * consumer starts at its saved checkpoint and saves each move; an anonymous feed starts at the
 * records committed from now on and keeps its position in memory.
 */
import type { DurableStream } from '../stream-store';

export class FeedPosition {
  /** undefined: from the oldest kept record. */
  current: string | undefined;
  /** Resolves once the consumer's checkpoint is read. */
  readonly ready: Promise<void>;

  constructor(
    private readonly stream: DurableStream,
    private readonly consumer: string | undefined,
  ) {
    this.current = consumer ? undefined : stream.watermark();
    this.ready = consumer
      ? stream.checkpoint(consumer).then((saved) => {
          this.current = saved;
        })
      : Promise.resolve();
  }

  async advance(sequenceNumber: string): Promise<void> {
    this.current = sequenceNumber;
    if (this.consumer) await this.stream.saveCheckpoint(this.consumer, sequenceNumber);
  }
}
