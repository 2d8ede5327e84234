// The environment `rustchain contracts test` gives a project's test files (read by contractTesting.ts): apart from
// the testing module itself, so the CLI names the variable without loading the node.

/** The project's build directory, where deploy(name) finds <name>.json. */
export const BUILD_DIR_ENV = "RUSTCHAIN_BUILD_DIR";
