// @huggingface/transformers (transformers.js, on its own onnxruntime-node) generating from the very
// ONNX model folder that ClawBot's importer wrote: it is loaded as a local model
// (env.localModelPath = the folder's parent, remote models off), with no file changed or added.
// The one option the folder needs is use_external_data_format, since the weights live in
// onnx/model.onnx_data. Session options are transformers.js's own defaults.
//
// Imported by name at run time from bench/peers/node_modules (installed by bench/runtime/peers.ts),
// so the types below describe the few calls used here: the root project never depends on it.
import { basename, dirname } from 'node:path';
import type { ChatMessage } from '../../runtime/engine/types.ts';
import type { BenchPrompt, Generator, TimedGeneration } from '../runtime/generator.ts';

interface Transformers {
  env: { localModelPath: string; allowRemoteModels: boolean; allowLocalModels: boolean };
  AutoTokenizer: { from_pretrained(id: string): Promise<Tokenizer> };
  AutoModelForCausalLM: {
    from_pretrained(
      id: string,
      options: { dtype: 'fp32'; device: 'cpu'; use_external_data_format: true },
    ): Promise<CausalLM>;
  };
}
interface Tensor {
  dims: number[];
  tolist(): unknown[][];
}
interface Tokenizer {
  apply_chat_template(
    messages: ChatMessage[],
    options: { add_generation_prompt: true },
  ): { input_ids: Tensor; attention_mask: Tensor };
  decode(ids: number[], options: { skip_special_tokens: true }): string;
}
interface CausalLM {
  generate(options: {
    input_ids: Tensor;
    attention_mask: Tensor;
    max_new_tokens: number;
    do_sample: false;
    /** Called with the prompt first, then with each generated token. */
    streamer: { put(ids: unknown): void; end(): void };
  }): Promise<Tensor>;
  dispose(): Promise<unknown>;
}

const specifier = '@huggingface/transformers';

export async function transformersJs(onnxDir: string): Promise<Generator> {
  const { env, AutoTokenizer, AutoModelForCausalLM } = (await import(specifier)) as Transformers;
  env.localModelPath = dirname(onnxDir);
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  const id = basename(onnxDir);
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForCausalLM.from_pretrained(id, {
    dtype: 'fp32',
    device: 'cpu',
    use_external_data_format: true,
  });
  return {
    settings: { dtype: 'fp32', device: 'cpu', sessionOptions: 'transformers.js defaults' },
    async generate(prompt: BenchPrompt, maxTokens: number): Promise<TimedGeneration> {
      const started = performance.now();
      const inputs = tokenizer.apply_chat_template(prompt.messages, {
        add_generation_prompt: true,
      });
      const tokenTimes: number[] = [];
      let promptSeen = false;
      const output = await model.generate({
        ...inputs,
        max_new_tokens: maxTokens,
        do_sample: false,
        streamer: {
          put: () => {
            if (promptSeen) tokenTimes.push(performance.now() - started);
            promptSeen = true;
          },
          end: () => {},
        },
      });
      const promptTokens = inputs.input_ids.dims[1]!;
      const generated = (output.tolist()[0] as bigint[]).slice(promptTokens).map(Number);
      return {
        promptTokens,
        tokens: generated.length,
        text: tokenizer.decode(generated, { skip_special_tokens: true }),
        firstTokenMs: tokenTimes[0] ?? Number.NaN,
        lastTokenMs: tokenTimes.at(-1) ?? Number.NaN,
      };
    },
    close: async () => {
      await model.dispose();
    },
  };
}
