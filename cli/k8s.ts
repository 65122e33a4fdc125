// `npm run k6 -- <scenario> --k8s …`: the manifests that run one bundled scenario on
// Kubernetes with the k6-operator: a ConfigMap holding the bundle, then a TestRun whose
// pods all push to one sink. See docs/kubernetes.md.
import { Document, Scalar, parseDocument } from 'yaml';
import { CliError } from './args.ts';
import { K6_VERSION } from './k6-binary.ts';
import { RUN_TAG_NAMES, STANDARD_TAG_ENV, TESTID_PATTERN } from '../lib/tags.ts';

export interface K8sOptions {
  /** TestRun name (the ConfigMap is `<name>-script`): see k8sNameFromTestId. */
  name: string;
  namespace: string;
  /** Runner pods; the operator gives each an execution segment. */
  parallelism: number;
  /** The sink's base URL, as the pods reach it; `/api/v1/write` is added. */
  sinkUrl: string;
  /** The Secret holding the sink's bearer token (default promo-sink-token, key token). */
  tokenSecret?: { name: string; key: string };
  testid: string;
  /** The scenario env (TESTID, BASE_URL, ENVIRONMENT, INTENSITY, …), never secrets. */
  env: Record<string, string>;
  /** Run tags, passed as `--tag`; testid and any missing standard tag are added. */
  tags: Record<string, string>;
  /** The ConfigMap key, and the file the pods run from /test/ (e.g. ramp.js). */
  scriptName: string;
  /** The bundle's exact text. */
  script: string;
  k6Image?: string;
  /** More k6 flags, one token per element. */
  extraArgs?: string[];
}

/** Every mistake in K8sOptions: one plain sentence, printed by the CLI with exit code 2. */
export class K8sError extends CliError {}

export const DEFAULT_TOKEN_SECRET = { name: 'promo-sink-token', key: 'token' } as const;
/** The k6 the project pins, as the official image (the operator's own default is grafana/k6:latest). */
export const DEFAULT_K6_IMAGE = `grafana/k6:${K6_VERSION.replace(/^v/, '')}`;
/** Tags the operator adds to every runner itself (`--tag instance_id=<i> --tag testrun_name=<name>`). */
export const OPERATOR_TAGS = ['instance_id', 'testrun_name'] as const;
/** The runner env this module owns; the scenario env may not set them. */
const SINK_ENV = ['K6_PROMETHEUS_RW_SERVER_URL', 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', 'K6_PROMETHEUS_RW_PUSH_INTERVAL', 'K6_PROMETHEUS_RW_STALE_MARKERS', 'K6_PROMETHEUS_RW_BEARER_TOKEN'];
/** The whole ConfigMap must stay under 1 MiB (keys and values). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
const LABELS = (name: string) => ({ 'app.kubernetes.io/part-of': 'promo-load-analyzer', 'promo-load-analyzer/run': name });

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const RUN_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TAG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The operator splits `arguments` on single spaces and pastes it into `sh -c` (initializer): no quoting survives. */
const ARG_SAFE = /^[A-Za-z0-9_.:/@+,=-]+$/;
/**
 * Characters that every YAML parser on the way reads back as themselves: YAML 1.1 parsers
 * (kubectl's) treat U+0085, U+2028 and U+2029 as line breaks, refuse C0/C1 controls, and a
 * block scalar cannot hold a carriage return.
 */
const YAML_PORTABLE = /^[\t\n\u0020-\u007e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]*$/u;

/**
 * The longest TestRun name: the operator names its Jobs and Services `<name>-initializer`,
 * `<name>-starter`, `<name>-<i>` and `<name>-service-<i>`, and those must stay within 63.
 */
export function maxRunNameLength(parallelism: number): number {
  return 63 - Math.max('-initializer'.length, `-service-${Math.max(0, parallelism - 1)}`.length);
}

/**
 * A TestRun name from a testid: `_` → `-`, and `run-` in front when it would not start with a
 * letter (the operator's Services need RFC 1035 names), cut to maxRunNameLength(parallelism).
 */
export function k8sNameFromTestId(testid: string, parallelism = 1): string {
  let name = testid.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(name)) name = `run-${name}`;
  name = name.slice(0, maxRunNameLength(parallelism)).replace(/-+$/, '');
  return name === 'run' || name === '' ? 'run-k6' : name;
}

function fail(message: string): never {
  throw new K8sError(message);
}

function checkOptions(o: K8sOptions): void {
  if (!Number.isInteger(o.parallelism) || o.parallelism < 1 || o.parallelism > 2 ** 31 - 1) {
    fail(`The parallelism must be a whole number of at least 1, not ${JSON.stringify(o.parallelism)}.`);
  }
  const maxName = maxRunNameLength(o.parallelism);
  if (typeof o.name !== 'string' || !RUN_NAME.test(o.name) || o.name.length > maxName) {
    fail(`The name ${JSON.stringify(o.name)} must be at most ${maxName} lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit (the k6-operator adds suffixes such as -initializer).`);
  }
  if (typeof o.namespace !== 'string' || !DNS_LABEL.test(o.namespace) || o.namespace.length > 63) {
    fail(`The namespace ${JSON.stringify(o.namespace)} must be at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit.`);
  }
  if (typeof o.testid !== 'string' || !TESTID_PATTERN.test(o.testid)) {
    fail(`The testid must look like <slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>, not ${JSON.stringify(o.testid)}.`);
  }
  if (typeof o.scriptName !== 'string' || !DATA_KEY.test(o.scriptName) || o.scriptName === '.' || o.scriptName === '..' || o.scriptName.length > 253) {
    fail(`The script name ${JSON.stringify(o.scriptName)} must be a file name of letters, digits, dots, hyphens and underscores, such as ramp.js.`);
  }
  if (typeof o.script !== 'string' || o.script === '') fail('The script is empty, so there is nothing for the pods to run.');
  const bytes = Buffer.byteLength(o.script, 'utf8') + o.scriptName.length;
  if (bytes > CONFIGMAP_MAX_BYTES) fail(`The script takes ${bytes} bytes, more than the ${CONFIGMAP_MAX_BYTES} bytes a ConfigMap can hold.`);
  if (Buffer.from(o.script, 'utf8').toString('utf8') !== o.script) fail('The script contains unpaired UTF-16 surrogates, which no ConfigMap can store.');
  const secret = o.tokenSecret ?? DEFAULT_TOKEN_SECRET;
  if (!DNS_SUBDOMAIN.test(secret.name) || secret.name.length > 253) fail(`The token Secret name ${JSON.stringify(secret.name)} is not a valid Kubernetes name.`);
  if (!DATA_KEY.test(secret.key) || secret.key.length > 253) fail(`The token Secret key ${JSON.stringify(secret.key)} must be letters, digits, dots, hyphens and underscores.`);
  if (o.k6Image !== undefined && !/^[^\s$]+$/.test(o.k6Image)) fail(`The k6 image ${JSON.stringify(o.k6Image)} must be an image reference without spaces.`);
}

/** `<sink>/api/v1/write`, from the sink's base URL (or the write URL itself). */
export function sinkWriteUrl(sinkUrl: string): string {
  let url: URL;
  try {
    url = new URL(sinkUrl);
  } catch {
    fail(`The sink URL must be an http:// or https:// URL, not ${JSON.stringify(sinkUrl)}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`The sink URL must be an http:// or https:// URL, not ${JSON.stringify(sinkUrl)}.`);
  if (url.username || url.password) fail('The sink URL must not carry credentials, since the manifests are plain text: put the token in the Secret instead.');
  if (url.search || url.hash) fail(`The sink URL must not have a query or a fragment, not ${JSON.stringify(sinkUrl)}.`);
  const base = url.href.replace(/\/+$/, '');
  return base.endsWith('/api/v1/write') ? base : `${base}/api/v1/write`;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\./.test(h) || h === '::1' || h === '0.0.0.0';
}

/** The scenario env, checked: TESTID agrees, BASE_URL is reachable from a pod, nothing we own. */
function scenarioEnv(o: K8sOptions): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(o.env)) {
    if (!ENV_NAME.test(key)) fail(`The env name ${JSON.stringify(key)} must be letters, digits and underscores, not starting with a digit.`);
    if (SINK_ENV.includes(key)) fail(`The env may not set ${key}: the manifests set it themselves, and the token comes from the Secret.`);
    if (typeof value !== 'string' || !YAML_PORTABLE.test(value)) fail(`The env value of ${key} must be text without control characters or Unicode line separators.`);
    if (key === 'TESTID' && value !== o.testid) fail(`The env sets TESTID=${value}, which differs from the testid ${o.testid}.`);
    entries.push([key, value]);
  }
  if (!('TESTID' in o.env)) entries.unshift(['TESTID', o.testid]);
  const baseUrl = o.env.BASE_URL;
  if (baseUrl === undefined) fail('The env must set BASE_URL, since the pods cannot reach the embedded demo shop.');
  let host = '';
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    fail(`BASE_URL must be an http:// or https:// URL, not ${JSON.stringify(baseUrl)}.`);
  }
  if (isLoopback(host)) fail(`BASE_URL ${baseUrl} is a loopback address, which inside a pod is the pod itself: give the shop's address as the cluster sees it.`);
  return entries;
}

/** `--tag k=v` pairs: testid first, then the given tags, then standard tags taken from the env. */
function runTags(o: K8sOptions): Array<[string, string]> {
  const tags = new Map<string, string>([['testid', o.testid]]);
  for (const [key, value] of Object.entries(o.tags)) {
    if (key === 'testid' && value !== o.testid) fail(`The tag testid=${value} differs from the testid ${o.testid}.`);
    tags.set(key, value);
  }
  for (const tag of RUN_TAG_NAMES) {
    const value = o.env[STANDARD_TAG_ENV[tag]];
    if (!tags.has(tag) && value !== undefined && value !== '') tags.set(tag, value);
  }
  for (const [key, value] of tags) {
    if (!TAG_NAME.test(key)) fail(`The tag name ${JSON.stringify(key)} must be letters, digits and underscores, not starting with a digit.`);
    if ((OPERATOR_TAGS as readonly string[]).includes(key)) fail(`The tag ${key} is set by the k6-operator on each pod, so it cannot be given here.`);
    if (typeof value !== 'string' || !ARG_SAFE.test(value)) {
      fail(`The tag ${key}=${JSON.stringify(value)} cannot go through the k6-operator's arguments, which are split on spaces and run through sh: use only letters, digits and _ . : / @ + , = -.`);
    }
  }
  return [...tags];
}

/**
 * The extra k6 flags, checked token by token. A `--features` flag given here wins over the
 * env surface in k6 ≥ 2, which would drop the native-histograms alias: add it to the list.
 */
function extraArguments(extra: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < extra.length; i++) {
    const arg = extra[i]!;
    if (!ARG_SAFE.test(arg)) {
      fail(`The extra k6 argument ${JSON.stringify(arg)} cannot go through the k6-operator's arguments, which are split on spaces and run through sh: use only letters, digits and _ . : / @ + , = -.`);
    }
    const withNative = (list: string) => (list.split(',').includes('native-histograms') ? list : `${list},native-histograms`);
    if (arg === '--features' && i + 1 < extra.length) {
      out.push(arg);
      const list = extra[++i]!;
      if (!ARG_SAFE.test(list)) fail(`The extra k6 argument ${JSON.stringify(list)} cannot go through the k6-operator's arguments: use only letters, digits and _ . : / @ + , = -.`);
      out.push(withNative(list));
    } else if (arg.startsWith('--features=')) {
      out.push(`--features=${withNative(arg.slice('--features='.length))}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Kubernetes expands `$(VAR)` in env values; `$$` is a literal `$`. */
function literalEnvValue(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/**
 * The ConfigMap as YAML. The bundle is a block literal when every YAML parser on the way
 * (kubectl's YAML 1.1 one included) reads it back byte for byte; otherwise it goes to
 * `binaryData` as base64, which the pods see as the same file.
 */
function configMapYaml(o: K8sOptions, configMapName: string): string {
  const manifest = (files: { data: Record<string, Scalar> } | { binaryData: Record<string, string> }) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configMapName, namespace: o.namespace, labels: LABELS(o.name), annotations: { 'promo-load-analyzer/testid': o.testid } },
    ...files,
  });
  const base64 = () => new Document(manifest({ binaryData: { [o.scriptName]: Buffer.from(o.script, 'utf8').toString('base64') } })).toString({ lineWidth: 0 });
  if (!YAML_PORTABLE.test(o.script)) return base64();
  const literal = new Scalar(o.script);
  literal.type = Scalar.BLOCK_LITERAL;
  const text = new Document(manifest({ data: { [o.scriptName]: literal } })).toString({ lineWidth: 0 });
  // Belt and braces: what does not read back as the same block literal goes to binaryData.
  const back = parseDocument(text).getIn(['data', o.scriptName], true) as Scalar | undefined;
  return back?.type === Scalar.BLOCK_LITERAL && back.value === o.script ? text : base64();
}

/**
 * Multi-document YAML for `kubectl apply -f -`: a ConfigMap `<name>-script` holding the bundle
 * under `scriptName`, then a k6-operator TestRun (k6.io/v1alpha1) whose runners push to the sink.
 * Throws a K8sError (one sentence) on bad input.
 */
export function k8sManifests(o: K8sOptions): string {
  checkOptions(o);
  const writeUrl = sinkWriteUrl(o.sinkUrl);
  const env = scenarioEnv(o);
  const tags = runTags(o);
  const secret = o.tokenSecret ?? DEFAULT_TOKEN_SECRET;
  const configMapName = `${o.name}-script`;

  const args = ['-o', 'experimental-prometheus-rw', ...tags.flatMap(([k, v]) => ['--tag', `${k}=${v}`]), ...extraArguments(o.extraArgs ?? [])];
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: o.name, namespace: o.namespace, labels: LABELS(o.name), annotations: { 'promo-load-analyzer/testid': o.testid } },
    spec: {
      parallelism: o.parallelism,
      script: { configMap: { name: configMapName, file: o.scriptName } },
      arguments: args.join(' '),
      runner: {
        image: o.k6Image ?? DEFAULT_K6_IMAGE,
        env: [
          { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: literalEnvValue(writeUrl) },
          // k6 ≥ 2.2 honours it as an alias of the native-histograms feature (older k6 reads it directly).
          { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: 'true' },
          { name: 'K6_PROMETHEUS_RW_PUSH_INTERVAL', value: '5s' },
          { name: 'K6_PROMETHEUS_RW_STALE_MARKERS', value: 'true' },
          ...env.map(([name, value]) => ({ name, value: literalEnvValue(value) })),
          { name: 'K6_PROMETHEUS_RW_BEARER_TOKEN', valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } } },
        ],
      },
    },
  };
  return `${configMapYaml(o, configMapName)}---\n${new Document(testRun).toString({ lineWidth: 0 })}`;
}
