import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Ajv, type AnySchemaObject, type ValidateFunction } from 'ajv';
import { bundleFile, SCENARIO_DIR } from '../../build/bundle.ts';
import { DEFAULT_K6_IMAGE, K8sError, k8sManifests, k8sNameFromTestId, maxRunNameLength, type K8sOptions } from '../../cli/k8s.ts';
import { CRD_PATH, crdSkipped } from '../helpers/reference-data.ts';

// The CRD is reference data beside the repository (../shared/k8s/): a bare clone skips the
// two schema tests (vitest.config.ts prints one line saying so); under CI=true they fail.
const schemaTest = crdSkipped() ? it.skip : it;
const TESTID = 'black_friday_20261127_080509_0a1b2c3d';

type Json = Record<string, any>;

/**
 * The CRD's schema, made closed: like `kubectl apply` (field validation Strict), an unknown
 * field is an error rather than something the API server would silently prune.
 */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'enum' || k === 'default' || k === 'required' ? v : closeObjects(v);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

function kubernetesKeywords(schema: unknown, found = new Set<string>()): Set<string> {
  if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k.startsWith('x-kubernetes-')) found.add(k);
      kubernetesKeywords(v, found);
    }
  }
  return found;
}

function testRunValidator(): ValidateFunction {
  if (!existsSync(CRD_PATH)) throw new Error(`${CRD_PATH} is absent: CI runs beside the reference data in ../shared/k8s/.`);
  const crd = parseYaml(readFileSync(CRD_PATH, 'utf8')) as Json;
  const version = (crd.spec.versions as Json[]).find((v) => v.name === 'v1alpha1');
  const schema = version!.schema.openAPIV3Schema as AnySchemaObject;
  const ajv = new Ajv({ strict: false, allErrors: true });
  // Structural-schema annotations (list-type, map-type, int-or-string, …) have no JSON Schema meaning.
  for (const keyword of kubernetesKeywords(schema)) ajv.addKeyword({ keyword });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
  return ajv.compile(closeObjects(schema) as AnySchemaObject);
}

function docs(yamlText: string): Json[] {
  const parsed = parseAllDocuments(yamlText);
  for (const d of parsed) expect(d.errors).toEqual([]);
  return parsed.map((d) => d.toJS() as Json);
}

function envOf(testRun: Json): Map<string, Json> {
  return new Map((testRun.spec.runner.env as Json[]).map((e) => [e.name as string, e]));
}

/** One plain sentence: one line, a capital or quote first, a full stop last, no sentence break inside. */
function expectOneSentence(fn: () => unknown): string {
  let message = '';
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(K8sError);
    message = (err as Error).message;
  }
  expect(message).toMatch(/^[A-Z"-][^\n]*\.$/);
  expect(message.slice(0, -1)).not.toMatch(/[.!?]\s+[A-Z]/);
  return message;
}

describe('Kubernetes manifests (k6-operator TestRun)', () => {
  let dir: string;
  let script: string;
  let validator: ValidateFunction | undefined;
  const validate = (doc: unknown) => (validator ??= testRunValidator())(doc);
  const options = (over: Partial<K8sOptions> = {}): K8sOptions => ({
    name: k8sNameFromTestId(TESTID),
    namespace: 'loadtest',
    parallelism: 4,
    sinkUrl: 'http://promo-sink.monitoring:9091',
    testid: TESTID,
    env: { TESTID, BASE_URL: 'https://shop.example.com', ENVIRONMENT: 'preprod', INTENSITY: 'medium', PROMO_TYPE: 'auto_cart', PROMO_NAME: 'black_friday', MIN_GRADE: 'C', ABORT_ON_FAIL: 'false' },
    tags: { environment: 'preprod', promo_type: 'auto_cart', promo_name: 'black_friday', intensity: 'medium' },
    scriptName: 'ramp.js',
    script,
    ...over,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'promo-k8s-'));
    const bundle = await bundleFile(join(SCENARIO_DIR, 'ramp.ts'), dir);
    script = readFileSync(bundle, 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the real ramp bundle in a ConfigMap, byte for byte, as a block literal', () => {
    const text = k8sManifests(options());
    const [configMap, testRun] = docs(text);
    expect(docs(text)).toHaveLength(2);
    expect(configMap).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'black-friday-20261127-080509-0a1b2c3d-script', namespace: 'loadtest' } });
    expect(script.endsWith('\n')).toBe(true);
    expect(configMap!.data['ramp.js']).toBe(script);
    expect(Buffer.from(configMap!.data['ramp.js'], 'utf8').equals(Buffer.from(script, 'utf8'))).toBe(true);
    expect(text).toMatch(/^ {2}ramp\.js: \|/m);
    expect(configMap!.binaryData).toBeUndefined();
    expect(testRun!.spec.script).toEqual({ configMap: { name: configMap!.metadata.name, file: 'ramp.js' } });
  });

  schemaTest('produces a TestRun that the CRD schema accepts', () => {
    const testRun = docs(k8sManifests(options()))[1]!;
    expect(testRun).toMatchObject({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 'black-friday-20261127-080509-0a1b2c3d', namespace: 'loadtest' } });
    expect(testRun.spec.parallelism).toBe(4);
    expect(validate(testRun), JSON.stringify(validator?.errors)).toBe(true);
  });

  schemaTest('has a live validator: a wrong type, an unknown field or a missing required field fails', () => {
    const testRun = docs(k8sManifests(options()))[1]!;
    const wrongType = structuredClone(testRun);
    wrongType.spec.parallelism = 'two';
    expect(validate(wrongType)).toBe(false);
    expect(validator!.errors!.map((e) => e.instancePath)).toContain('/spec/parallelism');

    const typo = structuredClone(testRun);
    typo.spec.paralelism = 4;
    expect(validate(typo)).toBe(false);

    const noScript = structuredClone(testRun);
    delete noScript.spec.script;
    expect(validate(noScript)).toBe(false);

    const int32 = structuredClone(testRun);
    int32.spec.parallelism = 2 ** 31;
    expect(validate(int32)).toBe(false);
  });

  it('passes the testid and every standard tag as --tag, with the remote-write output', () => {
    const testRun = docs(k8sManifests(options({ tags: { environment: 'preprod' }, extraArgs: ['--tag', 'team=web'] })))[1]!;
    const args = (testRun.spec.arguments as string).split(' ');
    expect(args).not.toContain('');
    expect(args.slice(0, 2)).toEqual(['-o', 'experimental-prometheus-rw']);
    const tags = args.flatMap((a, i) => (args[i - 1] === '--tag' ? [a] : []));
    // Missing standard tags come from the env: the operator's own --tag flags replace the script's options.tags.
    expect(tags).toEqual(['testid=' + TESTID, 'environment=preprod', 'promo_type=auto_cart', 'promo_name=black_friday', 'intensity=medium', 'team=web']);
  });

  it('configures the sink in the runner env and the scenario env alongside', () => {
    const env = envOf(docs(k8sManifests(options({ sinkUrl: 'http://promo-sink.monitoring:9091/' })))[1]!);
    expect(env.get('K6_PROMETHEUS_RW_SERVER_URL')!.value).toBe('http://promo-sink.monitoring:9091/api/v1/write');
    expect(env.get('K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM')!.value).toBe('true');
    expect(env.get('K6_PROMETHEUS_RW_PUSH_INTERVAL')!.value).toBe('5s');
    expect(env.get('K6_PROMETHEUS_RW_STALE_MARKERS')!.value).toBe('true');
    expect(env.get('TESTID')!.value).toBe(TESTID);
    expect(env.get('BASE_URL')!.value).toBe('https://shop.example.com');
    expect(env.get('INTENSITY')!.value).toBe('medium');
    const written = envOf(docs(k8sManifests(options({ sinkUrl: 'https://sink.example.com/prefix/api/v1/write' })))[1]!);
    expect(written.get('K6_PROMETHEUS_RW_SERVER_URL')!.value).toBe('https://sink.example.com/prefix/api/v1/write');
  });

  it('takes the token from a secretKeyRef and never holds a secret itself', () => {
    const text = k8sManifests(options());
    const env = envOf(docs(text)[1]!);
    expect(env.get('K6_PROMETHEUS_RW_BEARER_TOKEN')).toEqual({ name: 'K6_PROMETHEUS_RW_BEARER_TOKEN', valueFrom: { secretKeyRef: { name: 'promo-sink-token', key: 'token' } } });
    for (const [name, entry] of env) if (/TOKEN|PASSWORD|SECRET/.test(name)) expect(entry.value).toBeUndefined();
    const custom = envOf(docs(k8sManifests(options({ tokenSecret: { name: 'sink-auth', key: 'bearer' } })))[1]!);
    expect(custom.get('K6_PROMETHEUS_RW_BEARER_TOKEN')!.valueFrom.secretKeyRef).toEqual({ name: 'sink-auth', key: 'bearer' });
    expectOneSentence(() => k8sManifests(options({ env: { ...options().env, K6_PROMETHEUS_RW_BEARER_TOKEN: 'hunter2hunter2' } })));
    expectOneSentence(() => k8sManifests(options({ sinkUrl: 'http://user:hunter2@promo-sink:9091' })));
  });

  it('keeps any script exact: a block literal when portable, base64 binaryData otherwise', () => {
    const tricky = '  // leading spaces\n\tconst s = `$' + '{x} "q" \'s\' # not a comment`;\n---\n...\n%YAML 1.2\ntrailing   \n\u00e9\u2713 \u{1F600}\n\n\n';
    const cm = docs(k8sManifests(options({ script: tricky })))[0]!;
    expect(cm.data['ramp.js']).toBe(tricky);
    expect(cm.binaryData).toBeUndefined();
    for (const awkward of ['a\r\nb\n', 'line\u2028separator\n', 'nel\u0085\n', 'nul\u0000\n', '\ufeffbom\n', 'no newline at the end']) {
      const text = k8sManifests(options({ script: awkward }));
      const doc = docs(text)[0]!;
      const restored = doc.data?.['ramp.js'] ?? Buffer.from(doc.binaryData['ramp.js'], 'base64').toString('utf8');
      expect(restored).toBe(awkward);
    }
    expect(docs(k8sManifests(options({ script: 'a\r\nb\n' })))[0]!.binaryData['ramp.js']).toBe(Buffer.from('a\r\nb\n').toString('base64'));
  });

  it('escapes $ in env values, which Kubernetes would expand as $(VAR)', () => {
    const env = envOf(docs(k8sManifests(options({ env: { ...options().env, PROMO_CODE: 'SAVE$(HOME)$$' } })))[1]!);
    expect(env.get('PROMO_CODE')!.value).toBe('SAVE$$(HOME)$$$$');
  });

  it('pins the image and keeps native histograms on when --features is passed through', () => {
    const testRun = docs(k8sManifests(options({ extraArgs: ['--features', 'merge-run-tags'] })))[1]!;
    expect(testRun.spec.runner.image).toBe(DEFAULT_K6_IMAGE);
    expect(testRun.spec.arguments).toMatch(/ --features merge-run-tags,native-histograms$/);
    expect(docs(k8sManifests(options({ k6Image: 'registry.local/k6:2.2.0' })))[1]!.spec.runner.image).toBe('registry.local/k6:2.2.0');
  });

  it('derives valid names from testids', () => {
    expect(k8sNameFromTestId(TESTID)).toBe('black-friday-20261127-080509-0a1b2c3d');
    expect(k8sNameFromTestId('2026_sale_20261127_080509_0a1b2c3d')).toBe('run-2026-sale-20261127-080509-0a1b2c3d');
    expect(k8sNameFromTestId('___20261127_080509_0a1b2c3d')).toBe('run----20261127-080509-0a1b2c3d');
    for (const slug of ['a', 'x'.repeat(20), '_'.repeat(20), '9'.repeat(20)]) {
      const name = k8sNameFromTestId(`${slug}_20261127_080509_0a1b2c3d`);
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(maxRunNameLength(999));
      expect(() => k8sManifests(options({ name, testid: `${slug}_20261127_080509_0a1b2c3d`, env: { BASE_URL: 'https://shop.example.com' } }))).not.toThrow();
    }
  });

  it.each<[string, Partial<K8sOptions>]>([
    ['an uppercase name', { name: 'Black-Friday' }],
    ['a name with underscores', { name: 'black_friday' }],
    ['a name starting with a digit', { name: '2026-sale' }],
    ['a name ending with a hyphen', { name: 'sale-' }],
    ['a name too long for the operator suffixes', { name: 'a'.repeat(52) }],
    ['an uppercase namespace', { namespace: 'LoadTest' }],
    ['a namespace with a dot', { namespace: 'load.test' }],
    ['a namespace of 64 characters', { namespace: 'n'.repeat(64) }],
    ['parallelism 0', { parallelism: 0 }],
    ['parallelism 1.5', { parallelism: 1.5 }],
    ['a malformed testid', { testid: 'ramp', env: { BASE_URL: 'https://shop.example.com' } }],
    ['a TESTID env that disagrees', { env: { TESTID: 'other_20261127_080509_0a1b2c3d', BASE_URL: 'https://shop.example.com' } }],
    ['no BASE_URL', { env: { ENVIRONMENT: 'prod' } }],
    ['a loopback BASE_URL', { env: { BASE_URL: 'http://127.0.0.1:8080' } }],
    ['a tag value with a space', { tags: { promo_name: 'Black Friday' } }],
    ['a tag the operator sets', { tags: { instance_id: '3' } }],
    ['an extra argument with shell syntax', { extraArgs: ['--tag', 'x=$(id)'] }],
    ['a sink URL that is not http', { sinkUrl: 'promo-sink:9091' }],
    ['a script name with a slash', { scriptName: 'dir/ramp.js' }],
    ['an empty script', { script: '' }],
    ['a script too large for a ConfigMap', { script: 'x'.repeat(1024 * 1024) }],
  ])('rejects %s with one sentence', (_what, over) => {
    expectOneSentence(() => k8sManifests(options(over)));
  });

  it('names the limit in the name error', () => {
    expect(expectOneSentence(() => k8sManifests(options({ name: 'Bad_Name' })))).toBe(
      'The name "Bad_Name" must be at most 51 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit (the k6-operator adds suffixes such as -initializer).',
    );
    expect(expectOneSentence(() => k8sManifests(options({ parallelism: 0 })))).toBe('The parallelism must be a whole number of at least 1, not 0.');
  });
});
