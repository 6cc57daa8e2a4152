import type { EngineSession } from '../../engine/engine.ts';
import { readFloat32 } from '../../engine/tensor.ts';
import { readLabels, type ModelBundle } from '../../models/model-bundle.ts';
import { InputError } from '../input-error.ts';
import { createEncoderFeeds } from '../batch-feeds.ts';
import { applyScoreFunction, type ScoreFunction } from '../scores.ts';
import { createClassifierTextEncoder, type ClassifierTextEncoder } from './text-encoder.ts';

/** A text-classification model ready to run: its session, labels and text encoder. */
export interface Classifier {
  readonly session: EngineSession;
  readonly labels: readonly string[];
  readonly textEncoder: ClassifierTextEncoder;
  /** The score function Hugging Face would pick for this model. */
  readonly defaultScoreFunction: ScoreFunction;
}

/** How `classify` answers: how many labels, how scores are computed, whether long texts are truncated. */
export interface ClassifyOptions {
  /** How many labels to return per input, best first; `null` or 0 returns all. */
  topK?: number | null;
  scoreFunction?: ScoreFunction;
  /** Cut over-long inputs to the model's length instead of refusing them. */
  truncate?: boolean;
  /** Refuse inputs longer than this many tokens (or features). */
  maxTokens?: number;
}

/** One label of a classification and its score. */
export interface LabelScore {
  label: string;
  score: number;
}

/**
 * Sigmoid for multi-label and single-logit models, softmax otherwise: the rule of transformers' pipeline.
 * fastText models emit log-probabilities, so their probabilities are exp(logits).
 */
function pickScoreFunction(model: ModelBundle, labelCount: number): ScoreFunction {
  if (model.config.model_type === 'fasttext') return 'exp';
  if (model.config.problem_type === 'multi_label_classification' || labelCount === 1) return 'sigmoid';
  return 'softmax';
}

/** Opens a text-classification model's session and reads its labels, for `classify`. */
export async function createClassifier(model: ModelBundle): Promise<Classifier> {
  const session = await model.openSession();
  if (!session.outputs.some((output) => output.name === 'logits')) {
    throw new Error(`model ${model.name} has no "logits" output; outputs are ${session.outputs.map((o) => o.name).join(', ')}`);
  }
  const labels = readLabels(model.config);
  if (labels.length === 0) throw new Error(`model ${model.name} has no id2label in config.json`);
  return {
    session,
    labels,
    textEncoder: await createClassifierTextEncoder(model),
    defaultScoreFunction: pickScoreFunction(model, labels.length),
  };
}

/** Classifies a batch of texts in one run; returns each text's labels, best first. */
export async function classify(classifier: Classifier, texts: readonly string[], options: ClassifyOptions = {}): Promise<LabelScore[][]> {
  if (texts.length === 0) return [];
  const maxTokens = options.maxTokens ?? classifier.textEncoder.maxLength;
  const rows = texts.map((text) => {
    if (text.length === 0) throw new InputError('empty', 'an input text is empty');
    return classifier.textEncoder.encode(text, { truncate: options.truncate ?? false, maxTokens });
  });
  const outputs = await classifier.session.run(createEncoderFeeds(classifier.session, rows, classifier.textEncoder.padId), ['logits']);
  const logits = readFloat32(outputs.logits);
  const labelCount = outputs.logits.dims[1];
  if (labelCount !== classifier.labels.length) {
    throw new Error(`model gives ${labelCount} logits but config.json names ${classifier.labels.length} labels`);
  }
  const scoreFunction = options.scoreFunction ?? classifier.defaultScoreFunction;
  const topK = options.topK === null || options.topK === 0 ? labelCount : (options.topK ?? 1);
  return texts.map((_, row) => {
    const scores = applyScoreFunction(logits.subarray(row * labelCount, (row + 1) * labelCount), scoreFunction);
    return classifier.labels
      .map((label, index) => ({ label, score: scores[index] }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
  });
}
