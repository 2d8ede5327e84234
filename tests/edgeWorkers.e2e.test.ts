// The edge hosted on Cloudflare Workers, run locally by `wrangler dev` (workerd, offline), in front of a
// one-validator core that pushes its replication feed to it: viem and ethers talk only to the edge. The scenario is
// shared with the Node host (tests/support/edgeScenarios.ts).
import { describeEdgeEndToEnd } from "./support/edgeScenarios.ts";

describeEdgeEndToEnd("workers");
