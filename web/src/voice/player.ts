// The assistant's voice: 16-bit mono PCM chunks scheduled back to back on the audio clock, so
// sentence after sentence plays without gaps or clicks however unevenly the frames arrive.

/** Head start given to the first chunk so a frame arriving a little late does not stutter. */
const LEAD_S = 0.05;

export class Player {
  private next = 0;
  private readonly sources = new Set<AudioBufferSourceNode>();

  /** `onIdle` runs when the last scheduled chunk has finished (not when stopped). */
  constructor(
    private readonly context: AudioContext,
    private readonly onIdle: () => void,
  ) {}

  get playing(): boolean {
    return this.sources.size > 0;
  }

  enqueue(pcm: ArrayBuffer, sampleRate: number): void {
    const samples = new Int16Array(pcm);
    if (samples.length === 0) return;
    const buffer = this.context.createBuffer(1, samples.length, sampleRate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const start = Math.max(this.next, this.context.currentTime + LEAD_S);
    source.start(start);
    this.next = start + buffer.duration;
    this.sources.add(source);
    source.onended = () => {
      if (!this.sources.delete(source)) return;
      if (this.sources.size === 0) this.onIdle();
    };
  }

  /** Silence now and drop everything queued (barge-in, the stop button, a withdrawn reply). */
  stop(): void {
    const playing = [...this.sources];
    this.sources.clear();
    for (const source of playing) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // already finished
      }
      source.disconnect();
    }
    this.next = 0;
  }
}
