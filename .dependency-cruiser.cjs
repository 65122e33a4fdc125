// The import rules that say the architecture (docs/architecture.md), checked by
// `npm test` (npm run check:imports). A rule broken is an error with its name and why.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules import each other in one direction only: a cycle makes the order of loading, and of reading, a guess.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'model-stands-alone',
      severity: 'error',
      comment: 'sink/model/ is the data every stage shares (label sets, the decoded batch, native histograms, the run events): it imports nothing else of the sink.',
      from: { path: '^sink/model/' },
      to: { path: '^sink/', pathNot: '^sink/model/' },
    },
    {
      name: 'codec-stands-on-model',
      severity: 'error',
      comment: 'sink/codec/ is the wire format both ways (snappy, the WebAssembly codec, RW1 encoding): it stands on the model alone, and the stages stand on it.',
      from: { path: '^sink/codec/' },
      to: { path: '^sink/', pathNot: '^sink/(codec|model)/' },
    },
    {
      name: 'remote-write-apart',
      severity: 'error',
      comment: 'Decoding knows nothing of grading or the fan-out: they meet in the model and the run events.',
      from: { path: '^sink/remote-write/' },
      to: { path: '^sink/(grade|fanout|control)/' },
    },
    {
      name: 'grade-apart',
      severity: 'error',
      comment: 'Grading knows nothing of decoding or the fan-out: it publishes run events.',
      from: { path: '^sink/grade/' },
      to: { path: '^sink/(remote-write|fanout|control)/' },
    },
    {
      name: 'fanout-apart',
      severity: 'error',
      comment: 'The fan-out knows nothing of decoding or grading: it takes the model and the graded run event, and is given what decodes.',
      from: { path: '^sink/fanout/' },
      to: { path: '^sink/(remote-write|grade|control)/' },
    },
    {
      name: 'cli-and-sink-share-only-contract',
      severity: 'error',
      comment: 'The CLI and the sink talk over HTTP and share only contract/ (and the toolkit in lib/, the reports in report/).',
      from: { path: '^cli/' },
      to: { path: '^sink/' },
    },
    {
      name: 'sink-and-cli-share-only-contract',
      severity: 'error',
      comment: 'The CLI and the sink talk over HTTP and share only contract/ (and the toolkit in lib/, the reports in report/).',
      from: { path: '^sink/' },
      to: { path: '^cli/' },
    },
    {
      name: 'tests-do-not-import-benches',
      severity: 'error',
      comment: 'Tests and benches share fixtures/, not each other.',
      from: { path: '^test/' },
      to: { path: '^bench/' },
    },
    {
      name: 'benches-do-not-import-tests',
      severity: 'error',
      comment: 'Tests and benches share fixtures/, not each other.',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'fixtures-stand-alone',
      severity: 'error',
      comment: 'fixtures/ serves the tests and the benches, so it imports neither.',
      from: { path: '^fixtures/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'what-ships-needs-no-tests',
      severity: 'error',
      comment: 'What npm run build ships never imports tests, benches or their fixtures.',
      from: { path: '^(sink|cli|lib|contract|report|demo|build|scripts-src|grafana)/' },
      to: { path: '^(test|bench|fixtures|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.tools|data|results)/' },
    // Type-only imports count: they tie modules together as much as any.
    tsPreCompilationDeps: true,
    // TypeScript 7 (tsgo) has no JavaScript API to parse with: @swc/core reads the sources.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
