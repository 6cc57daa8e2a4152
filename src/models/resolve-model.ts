import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where a Node process looks for models, in order. */
export interface ModelSearchPaths {
  /** The repository's own `models/` folder. */
  projectModels: string;
  /** `HONNX_CACHE`, by default `~/.cache/honnx/models` (XDG_CACHE_HOME respected). Never inside node_modules. */
  cache: string;
  /** `HONNX_MIRROR`: a folder of models in the Hugging Face layout, for example a fleet's shared copy. */
  mirror?: string;
  /** `HF_ENDPOINT`: a hub speaking the Hugging Face protocol, for `honnx models pull`. */
  hubEndpoint: string;
  /** Why there is no mirror, when there is none, said as it is (HONNX_MIRROR unset, or the configured folder missing). */
  noMirrorReason?: string;
  /** The folder is a node artifact: no honnx command line beside it, so a missing model is got another way. */
  artifact?: boolean;
  /**
   * Where the model versions a server can swap to are kept (`<versionStore>/.versions/`): the cache unless told,
   * a node artifact's own `models/` when it carries versions (a declared canary).
   */
  versionStore?: string;
}

/** The model settings of a project's `honnx.config.json`. */
export interface ProjectSettings {
  /** Mirror folder used when HONNX_MIRROR is unset, relative to the project root; ignored when it does not exist. */
  mirror?: string;
  /** Written by `honnx build --target node`: this folder is an artifact, not a honnx project. */
  artifact?: boolean;
  /** Written by `honnx build --target node` when the artifact carries versions: their store, relative to the project root. */
  versionStore?: string;
}

/** Where models are looked for, in order: the project's `models/`, the cache (`HONNX_CACHE`), the mirror (`HONNX_MIRROR` or the project's `mirror`). */
export function readModelSearchPaths(projectRoot: string, environment: NodeJS.ProcessEnv = process.env, settings: ProjectSettings = {}): ModelSearchPaths {
  const cacheHome = environment.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const settingsMirror = settings.mirror ? resolve(projectRoot, settings.mirror) : undefined;
  const mirror = environment.HONNX_MIRROR ? resolve(environment.HONNX_MIRROR) : settingsMirror && existsSync(settingsMirror) ? settingsMirror : undefined;
  let noMirrorReason: string | undefined;
  if (!mirror) {
    noMirrorReason = settingsMirror
      ? `(no mirror: HONNX_MIRROR is unset, and honnx.config.json's mirror ${settingsMirror} does not exist here)`
      : '(no mirror: HONNX_MIRROR is unset and honnx.config.json names none)';
  }
  return {
    projectModels: join(projectRoot, 'models'),
    cache: resolve(environment.HONNX_CACHE ?? join(cacheHome, 'honnx', 'models')),
    mirror,
    hubEndpoint: environment.HF_ENDPOINT ?? 'https://huggingface.co',
    ...(noMirrorReason ? { noMirrorReason } : {}),
    ...(settings.artifact ? { artifact: true } : {}),
    ...(settings.versionStore ? { versionStore: resolve(projectRoot, settings.versionStore) } : {}),
  };
}

/** A model found on disk: its folder and where it was found. */
export interface ResolvedModel {
  name: string;
  folder: string;
  source: 'project' | 'cache' | 'mirror';
}

/** No folder holds the model: names it, every folder searched and how to get it. */
export class ModelNotFoundError extends Error {
  constructor(
    readonly modelName: string,
    readonly searched: readonly string[],
    paths?: Pick<ModelSearchPaths, 'projectModels' | 'artifact'>,
  ) {
    const projectModels = paths?.projectModels ?? 'models';
    // A node artifact has no honnx command line (no `npx honnx`): the model comes with it, or from a folder.
    const fetch = paths?.artifact
      ? [
          `  - copy the model folder to ${join(projectModels, modelName)}/ (its files must match ${join(projectModels, 'honnx.lock.json')})`,
          `  - or rebuild this artifact with the model in it: honnx build --target node --include-model, in the honnx project`,
        ]
      : [`  - download it into the cache: npx honnx models pull ${modelName}`, `  - copy the model folder to ${join(projectModels, modelName)}/`];
    super(
      [
        `model "${modelName}" was not found. Looked in:`,
        ...searched.map((folder) => `  - ${folder}`),
        'To get it, do one of:',
        `  - set HONNX_MIRROR to a folder that holds ${modelName}/ (config.json, tokenizer.json, onnx/model.onnx)`,
        ...fetch,
      ].join('\n'),
    );
    this.name = 'ModelNotFoundError';
  }
}

/** A model is present where its folder has a config.json; hub ids ("org/name") map to nested folders. */
export function resolveModel(name: string, paths: ModelSearchPaths): ResolvedModel {
  const candidates: [ResolvedModel['source'], string | undefined][] = [
    ['project', paths.projectModels],
    ['cache', paths.cache],
    ['mirror', paths.mirror],
  ];
  const searched: string[] = [];
  for (const [source, root] of candidates) {
    if (!root) continue;
    const folder = join(root, name);
    searched.push(folder);
    if (existsSync(join(folder, 'config.json'))) return { name, folder, source };
  }
  if (!paths.mirror) searched.push(paths.noMirrorReason ?? '(no mirror: HONNX_MIRROR is unset)');
  throw new ModelNotFoundError(name, searched, paths);
}
