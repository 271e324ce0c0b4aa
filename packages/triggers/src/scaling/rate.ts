/**
 * A queue's publish rate derived from what the consumer sees, for KEDA's rabbitmq `MessageRate`
 * where RabbitMQ's management API (KEDA's source: `message_stats.publish_details.rate`) is not
 * used: messages published between two readings = the change in the queue's depth + the messages
 * this consumer settled (acked) in between; divided by the seconds between the readings. It is an
 * approximation of KEDA's meaning: acks by consumers in other processes are not seen (the rate reads
 * low), and messages that expire or are purged read as not published.
 */
export class PublishRateEstimator {
  private last: { at: number; depth: number; settled: number } | undefined;

  /**
   * A reading of the queue's depth and the consumer's running count of settled messages at `at`
   * (ms); the rate in messages per second since the previous reading, undefined for the first one
   * (or a reading at the same instant).
   */
  sample(depth: number, settled: number, at: number): number | undefined {
    const prev = this.last;
    this.last = { at, depth, settled };
    if (!prev || at <= prev.at) return undefined;
    // A restarted counter (settled went down) counts from zero.
    const acked = settled >= prev.settled ? settled - prev.settled : settled;
    const published = Math.max(0, depth - prev.depth + acked);
    return published / ((at - prev.at) / 1000);
  }
}
