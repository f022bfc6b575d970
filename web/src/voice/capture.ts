// The microphone as 16-bit PCM at the audio context's own rate.
//
// Why PCM and not MediaRecorder's Opus-in-WebM: one code path serves both push-to-talk and
// hands-free (the server's voice activity detector needs a live stream; WebM is only decoded on
// release), every chunk is usable on its own (a MediaRecorder's last chunk only arrives after an
// asynchronous `stop`, so a quick release could send `end` before the tail of the speech), and no
// browser-specific container support is involved (Safari records MP4, not WebM). The cost is
// bandwidth: ~96 kB/s at 48 kHz, small next to a page of product photos and only while talking.
// The context keeps the device's rate (forcing 16 kHz fails in Firefox when a microphone stream is
// connected); the server resamples whatever `sample_rate` the config names.

/** Why the microphone cannot be used, for a message the person can act on. */
export type MicProblem = "denied" | "no_microphone" | "insecure" | "failed";

export class MicError extends Error {
  constructor(
    readonly problem: MicProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Samples per chunk sent: ~40 ms at 48 kHz, small enough for the detector to react quickly. */
const CHUNK_SAMPLES = 2048;

// The worklet converts to Int16 off the main thread so a busy page does not drop audio.
const WORKLET = `
class PcmCapture extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Int16Array(${CHUNK_SAMPLES}); this.n = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      for (let i = 0; i < ch.length; i++) {
        const s = Math.max(-1, Math.min(1, ch[i]));
        this.buf[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
        if (this.n === this.buf.length) {
          this.port.postMessage(this.buf.buffer, [this.buf.buffer]);
          this.buf = new Int16Array(${CHUNK_SAMPLES});
          this.n = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("ik-pcm-capture", PcmCapture);
`;

function toInt16(samples: Float32Array): ArrayBuffer {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  return out.buffer;
}

/** An open microphone; `onChunk` gets every PCM chunk while it is open (the caller decides what to send). */
export class Microphone {
  private constructor(
    readonly context: AudioContext,
    private readonly stream: MediaStream,
    private readonly nodes: AudioNode[],
  ) {}

  get sampleRate(): number {
    return this.context.sampleRate;
  }

  static async open(context: AudioContext, onChunk: (pcm: ArrayBuffer) => void): Promise<Microphone> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new MicError("insecure", "getUserMedia is unavailable");
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        // No automatic gain: the recogniser normalises loudness itself, and Chromium's gain control
        // drove a normal speaking level into clipping (full-scale plateaus that PocketSphinx
        // misheard completely). Echo cancellation keeps the assistant's own voice out in hands-free.
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: false, channelCount: 1 },
      });
    } catch (err) {
      const name = err instanceof DOMException ? err.name : "";
      if (name === "NotAllowedError" || name === "SecurityError") throw new MicError("denied", String(err));
      if (name === "NotFoundError" || name === "OverconstrainedError") {
        throw new MicError("no_microphone", String(err));
      }
      throw new MicError("failed", err instanceof Error ? err.message : String(err));
    }
    try {
      const source = context.createMediaStreamSource(stream);
      if (context.audioWorklet) {
        const url = URL.createObjectURL(new Blob([WORKLET], { type: "text/javascript" }));
        try {
          await context.audioWorklet.addModule(url);
        } finally {
          URL.revokeObjectURL(url);
        }
        const node = new AudioWorkletNode(context, "ik-pcm-capture", { numberOfInputs: 1, numberOfOutputs: 0 });
        node.port.onmessage = (event: MessageEvent<ArrayBuffer>) => onChunk(event.data);
        source.connect(node);
        return new Microphone(context, stream, [source, node]);
      }
      // Older browsers: the deprecated ScriptProcessor still works, on the main thread.
      const processor = context.createScriptProcessor(CHUNK_SAMPLES, 1, 1);
      processor.onaudioprocess = (event) => onChunk(toInt16(event.inputBuffer.getChannelData(0)));
      const mute = context.createGain();
      mute.gain.value = 0; // a ScriptProcessor only runs when connected to the output
      source.connect(processor);
      processor.connect(mute);
      mute.connect(context.destination);
      return new Microphone(context, stream, [source, processor, mute]);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      throw new MicError("failed", err instanceof Error ? err.message : String(err));
    }
  }

  /** Give the microphone back (the browser's recording indicator goes off). */
  close(): void {
    for (const node of this.nodes) {
      node.disconnect();
      if (node instanceof AudioWorkletNode) node.port.onmessage = null;
    }
    for (const track of this.stream.getTracks()) track.stop();
  }
}
