// gRPC statuses for what the gRPC API refuses, and the one mapping from domain errors to them.
import { type Metadata as GrpcMetadata, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { domainCodeOf, RpcCode, RustChainError, toRpcError } from "@rustchain/shared";

export type GrpcApiErrorType =
  | { code: "GRPC_INVALID_ARGUMENT"; reason: string }
  | { code: "GRPC_NOT_FOUND"; what: string }
  | { code: "GRPC_UNAUTHENTICATED"; reason: string }
  | { code: "GRPC_OUT_OF_RANGE"; reason: string }
  | { code: "GRPC_RESOURCE_EXHAUSTED"; reason: string }
  | { code: "GRPC_FAILED_PRECONDITION"; reason: string };

/** A request the gRPC layer itself refuses (bad field, missing block, no credentials, a stream too far behind). */
export class GrpcApiError extends RustChainError<GrpcApiErrorType> {}

const STATUS_OF: Record<GrpcApiErrorType["code"], status> = {
  GRPC_INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  GRPC_NOT_FOUND: status.NOT_FOUND,
  GRPC_UNAUTHENTICATED: status.UNAUTHENTICATED,
  GRPC_OUT_OF_RANGE: status.OUT_OF_RANGE,
  GRPC_RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  GRPC_FAILED_PRECONDITION: status.FAILED_PRECONDITION,
};

/** JSON-RPC codes (what the node's handlers throw, via toRpcError) to gRPC statuses. */
function statusOfRpcCode(rpcCode: number, domainCode: string | undefined): status {
  if (domainCode === "HEADER_NOT_FOUND" || domainCode === "UNKNOWN_BLOCK") return status.NOT_FOUND;
  switch (rpcCode) {
    case RpcCode.INVALID_PARAMS:
    case RpcCode.INVALID_REQUEST:
    case RpcCode.PARSE_ERROR:
      return status.INVALID_ARGUMENT;
    case RpcCode.METHOD_NOT_FOUND:
    case RpcCode.METHOD_NOT_SUPPORTED:
      return status.UNIMPLEMENTED;
    case RpcCode.LIMIT_EXCEEDED:
      return status.RESOURCE_EXHAUSTED;
    case RpcCode.RESOURCE_NOT_FOUND:
      return status.NOT_FOUND;
    case RpcCode.RESOURCE_UNAVAILABLE:
      return status.UNAVAILABLE;
    case RpcCode.PRUNED_HISTORY_UNAVAILABLE:
    case RpcCode.INVALID_INPUT: // pool rejections, state the node no longer holds
      return status.FAILED_PRECONDITION;
    default:
      return status.INTERNAL;
  }
}

/**
 * The status a handler's failure is answered with. The domain code (ours or the JSON-RPC one in `data.code`) travels
 * in the trailing metadata `rustchain-error-code`, so clients match codes, never messages. Unknown errors become
 * INTERNAL with a generic text, as toRpcError does for JSON-RPC.
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const metadata: GrpcMetadata = new Metadata();
  if (err instanceof GrpcApiError) {
    metadata.set("rustchain-error-code", err.type.code);
    return { code: STATUS_OF[err.type.code], details: err.message, metadata };
  }
  const rpc = toRpcError(err);
  const domain = domainCodeOf(rpc.toJSON());
  if (domain) metadata.set("rustchain-error-code", domain);
  return { code: statusOfRpcCode(rpc.rpcCode, domain), details: rpc.message, metadata };
}
