/**
 * Speaking indicators: one AudioContext, an AnalyserNode per audio stream, and one timer
 * that reads their levels. A stream counts as speaking while its RMS level is above
 * SPEAKING_LEVEL, held for SPEAKING_HOLD_MS so the outline does not flicker between words.
 * The analyser window (WINDOW_SAMPLES, ≈43 ms at 48 kHz) is about as long as the sampling
 * interval, so short sounds are not missed between two reads.
 */
const SPEAKING_LEVEL = 0.01;
const SPEAKING_HOLD_MS = 400;
const SAMPLE_EVERY_MS = 50;
const WINDOW_SAMPLES = 2048;

interface Watched {
  analyser: AnalyserNode;
  source: MediaStreamAudioSourceNode;
  buffer: Float32Array<ArrayBuffer>;
  lastLoudAt: number;
  speaking: boolean;
  onChange: (speaking: boolean, level: number) => void;
}

export class SpeakingMeter {
  #context: AudioContext | undefined;
  readonly #watched = new Set<Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Watches the audio of `stream` (no-op without an audio track); `onChange` gets every
   * change of the speaking state, and the level with each sample. Returns the unwatch function.
   */
  watch(stream: MediaStream, onChange: (speaking: boolean, level: number) => void): () => void {
    if (stream.getAudioTracks().length === 0 || typeof AudioContext === 'undefined') return () => {};
    const context = (this.#context ??= new AudioContext());
    if (context.state === 'suspended') void context.resume().catch(() => undefined);
    const source = context.createMediaStreamSource(stream);
    const analyser = context.createAnalyser();
    analyser.fftSize = WINDOW_SAMPLES;
    source.connect(analyser);
    const entry: Watched = { analyser, source, buffer: new Float32Array(analyser.fftSize), lastLoudAt: 0, speaking: false, onChange };
    this.#watched.add(entry);
    this.#timer ??= setInterval(() => this.#sample(), SAMPLE_EVERY_MS);
    return () => {
      if (!this.#watched.delete(entry)) return;
      source.disconnect();
      if (this.#watched.size === 0) this.#stopTimer();
    };
  }

  close(): void {
    for (const entry of this.#watched) entry.source.disconnect();
    this.#watched.clear();
    this.#stopTimer();
    void this.#context?.close().catch(() => undefined);
    this.#context = undefined;
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sample(): void {
    const now = performance.now();
    for (const entry of this.#watched) {
      entry.analyser.getFloatTimeDomainData(entry.buffer);
      let sum = 0;
      for (const v of entry.buffer) sum += v * v;
      const level = Math.sqrt(sum / entry.buffer.length);
      if (level > SPEAKING_LEVEL) entry.lastLoudAt = now;
      const speaking = now - entry.lastLoudAt < SPEAKING_HOLD_MS;
      if (speaking !== entry.speaking) entry.speaking = speaking;
      entry.onChange(speaking, level);
    }
  }
}
