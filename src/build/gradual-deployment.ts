import { relative } from 'node:path';

/** One Workers version of a gradual deployment: the folder `honnx build` wrote and the model digest it carries. */
export interface DeploymentVersion {
  folder: string;
  digest: string;
}

/** A declared canary mapped onto Cloudflare's gradual deployments: two versions of one worker, and the split. */
export interface GradualDeployment {
  functionName: string;
  workerName: string;
  active: DeploymentVersion;
  canary: DeploymentVersion;
  /** The canary's share of requests, above 0 and at most 100. */
  percent: number;
}

/** One `wrangler versions upload`: where it runs and the message the version carries. */
export interface VersionUpload {
  folder: string;
  message: string;
}

/** The commands, in order: upload each version (nothing takes traffic yet), then split traffic between them. */
export interface DeploymentSteps {
  uploads: [active: VersionUpload, canary: VersionUpload];
  /** `wrangler versions deploy <active-id>@<100-p>% <canary-id>@<p>%`, with the ids the uploads print. */
  deploy: string;
}

/** The script `honnx build` writes in a canary's worker folder. */
export const DEPLOYMENT_SCRIPT = 'gradual-deploy.sh';

export const ACTIVE_ID = '<active-version-id>';
export const CANARY_ID = '<canary-version-id>';

/** Shares without binary noise (100 - 33.3 is 66.7, not 66.69999999999999). */
const formatPercent = (percent: number) => String(Number(percent.toFixed(3)));

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** The upload and deploy commands of a gradual deployment, with the version ids as placeholders. */
export function planGradualDeployment(plan: GradualDeployment): DeploymentSteps {
  const message = (role: string, digest: string) => `honnx ${plan.functionName} ${role}: model ${digest}`;
  const split =
    plan.percent >= 100 ? `${CANARY_ID}@100%` : `${ACTIVE_ID}@${formatPercent(100 - plan.percent)}% ${CANARY_ID}@${formatPercent(plan.percent)}%`;
  return {
    uploads: [
      { folder: plan.active.folder, message: message('active', plan.active.digest) },
      { folder: plan.canary.folder, message: message('canary', plan.canary.digest) },
    ],
    deploy: `npx wrangler versions deploy ${split} --name ${plan.workerName} --yes`,
  };
}

/** The commands as `honnx build` prints them, folders relative to where it ran. */
export function formatDeploymentSteps(steps: DeploymentSteps, from: string): string[] {
  const [active, canary] = steps.uploads.map((upload) => `npx wrangler versions upload --cwd ${quote(relative(from, upload.folder) || '.')} --message ${quote(upload.message)}`);
  return [`${active}   # prints ${ACTIVE_ID}`, `${canary}   # prints ${CANARY_ID}`, steps.deploy];
}

/**
 * `gradual-deploy.sh`, written beside the canary's worker: the same commands, each upload's version id read from
 * the output file wrangler writes (WRANGLER_OUTPUT_FILE_PATH, a `version-upload` line) rather than from its text.
 */
export function writeDeploymentScript(plan: GradualDeployment, steps: DeploymentSteps): string {
  const upload = (step: VersionUpload) => `upload ${quote(relative(plan.canary.folder, step.folder) || '.')} ${quote(step.message)}`;
  return [
    '#!/bin/sh',
    `# A gradual deployment of worker ${plan.workerName} (function ${plan.functionName}), written by honnx build:`,
    `# the active model ${plan.active.digest} and the canary ${plan.canary.digest} at ${formatPercent(plan.percent)}% of requests.`,
    '# Each upload is a new version of the same worker and takes no traffic until the deploy at the end.',
    'set -e',
    'cd "$(dirname "$0")"',
    'output="$(mktemp)"',
    'trap \'rm -f "$output"\' EXIT',
    'upload() {',
    '  : > "$output"',
    '  WRANGLER_OUTPUT_FILE_PATH="$output" npx wrangler versions upload --cwd "$1" --message "$2" >&2',
    `  node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\\n").filter(Boolean).map((line) => JSON.parse(line)); const id = lines.filter((line) => line.type === "version-upload").pop()?.version_id; if (!id) process.exit(1); console.log(id);' "$output"`,
    '}',
    `active=$(${upload(steps.uploads[0])})`,
    `canary=$(${upload(steps.uploads[1])})`,
    steps.deploy.replace(ACTIVE_ID, '$active').replace(CANARY_ID, '$canary'),
    '',
  ].join('\n');
}
