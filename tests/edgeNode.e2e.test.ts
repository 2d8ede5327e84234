// The edge hosted on Node (`rustchain edge`) with a real redis-server, in front of a one-validator core that pushes
// its replication feed to it: viem and ethers talk only to the edge. The scenario is shared with the Workers host
// (tests/support/edgeScenarios.ts).
import { describeEdgeEndToEnd } from "./support/edgeScenarios.ts";

describeEdgeEndToEnd("node");
