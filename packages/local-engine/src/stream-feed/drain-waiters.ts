/** Callers of `drain()` waiting for the feed to have settled everything committed up to a sequence number. */
export class DrainWaiters {
  /** Everything committed up to this sequence number has been read and settled. */
  private settledThrough = '';
  private readonly waiters: { target: string; resolve: () => void }[] = [];

  /** Whether everything up to `target` is settled (sequence numbers compare as strings). */
  settled(target: string): boolean {
    return this.settledThrough >= target;
  }

  /** Resolves once {@link settle} has reached `target`, or {@link releaseAll} is called. */
  wait(target: string): Promise<void> {
    if (this.settled(target)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  /** The feed caught up with everything committed up to `through`. */
  settle(through: string): void {
    if (through > this.settledThrough) this.settledThrough = through;
    this.release((waiter) => this.settled(waiter.target));
  }

  /** Nothing more will be delivered (stopped): release everyone. */
  releaseAll(): void {
    this.release(() => true);
  }

  private release(done: (waiter: { target: string }) => boolean): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (!done(waiter)) continue;
      this.waiters.splice(i, 1);
      waiter.resolve();
    }
  }
}
