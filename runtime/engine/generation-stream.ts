// One request's output on the main thread: token ids from the worker become text (UTF-8-safe),
// are cut at stop sequences, and are handed out as final deltas and, at the end, the result.
import { Channel } from './channel.ts';
import { IncrementalDetokenizer } from './detokenizer.ts';
import type { DecodeTokens } from './detokenizer.ts';
import type { FinishReason } from './protocol.ts';
import { StopMatcher } from './stop-matcher.ts';
import type { EngineError, Generation, GenerationResult, TextDelta } from './types.ts';

export interface GenerationStreamOptions {
  decode: DecodeTokens;
  stop: readonly string[];
  promptTokens: number;
  /** When the request was admitted (performance.now()). */
  admittedAt: number;
  /** Called once when a stop sequence ends the text, so the worker can stop generating. */
  onStopSequence: () => void;
  now?: () => number;
}

export class GenerationStream {
  readonly generation: Generation;
  readonly #options: GenerationStreamOptions;
  readonly #now: () => number;
  readonly #deltas = new Channel<TextDelta>();
  readonly #detokenizer: IncrementalDetokenizer;
  readonly #stop: StopMatcher;
  #text = '';
  #tokens = 0;
  #cachedTokens = 0;
  #firstTokenAt: number | undefined;
  #done = false;
  #resolve!: (result: GenerationResult) => void;
  #reject!: (error: EngineError) => void;

  constructor(options: GenerationStreamOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#detokenizer = new IncrementalDetokenizer(options.decode);
    this.#stop = new StopMatcher(options.stop);
    const result = new Promise<GenerationResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only reads `deltas` still sees the error there; this keeps an unawaited
    // rejected `result` from being an unhandled rejection that would end the process.
    result.catch(() => undefined);
    this.generation = { deltas: this.#deltas, result };
  }

  get done(): boolean {
    return this.#done;
  }

  admitted(cachedTokens: number): void {
    this.#cachedTokens = cachedTokens;
  }

  token(token: number): void {
    if (this.#done) return;
    this.#firstTokenAt ??= this.#now();
    this.#tokens++;
    const check = this.#stop.push(this.#detokenizer.push(token));
    this.#emit(check.text);
    if (check.stopped) {
      this.#end('stop', this.#tokens);
      this.#options.onStopSequence();
    }
  }

  /** The worker ended the sequence; `generatedTokens` includes an end-of-sequence token. */
  finished(reason: FinishReason, generatedTokens: number): void {
    if (this.#done) return;
    const check = this.#stop.push(this.#detokenizer.flush());
    this.#emit(check.text);
    if (check.stopped) {
      this.#end('stop', generatedTokens);
      return;
    }
    this.#emit(this.#stop.flush());
    this.#end(reason, generatedTokens);
  }

  failed(error: EngineError): void {
    if (this.#done) return;
    this.#done = true;
    this.#deltas.fail(error);
    this.#reject(error);
  }

  #emit(text: string): void {
    if (text.length === 0) return;
    this.#text += text;
    this.#deltas.push({ text });
  }

  #end(finishReason: FinishReason, completionTokens: number): void {
    this.#done = true;
    this.#deltas.close();
    const firstTokenAt = this.#firstTokenAt ?? this.#now();
    this.#resolve({
      text: this.#text,
      finishReason,
      usage: {
        promptTokens: this.#options.promptTokens,
        completionTokens,
        cachedPromptTokens: this.#cachedTokens,
      },
      timeToFirstTokenMs: firstTokenAt - this.#options.admittedAt,
    });
  }
}
