// k6/execution with a fixed VU and iteration, enough for unit tests.
export default {
  vu: { idInTest: 1, iterationInScenario: 0 },
  scenario: { name: 'default', iterationInTest: 0 },
  test: { options: { tags: { testid: 'shim_20260101_000000_00000000' } }, abort: (reason?: string) => { throw new Error(`aborted: ${reason ?? ''}`); } },
};
