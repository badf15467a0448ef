"""A gRPC proxy in front of the FlyteAdmin stand-in that demands a bearer token, for testing
`fledge register`'s auth (the stand-in has none).

Usage: python auth_proxy.py UPSTREAM_ADDR LOG_FILE [--client-id ID --client-secret SECRET] [--expire-after N]

- AuthMetadataService/GetOAuth2Metadata and GetPublicClientConfig answer without auth; the token
  endpoint is a small HTTP server here (`POST /token`, client credentials with HTTP Basic auth).
- Every other call must carry `authorization: Bearer <a valid token issued>` (or `static-token`
  when no client id is given), else UNAUTHENTICATED; accepted calls are forwarded as raw bytes.
- `--expire-after N` invalidates every token issued so far once, after N accepted calls (as if
  they had expired), forcing a refresh.
Prints `READY <grpc addr> <token url>` once serving; every call is a JSON line in LOG_FILE.
Needs grpcio and flyteidl (the stand-in's venv).
"""
import argparse
import base64
import http.server
import json
import secrets
import threading
from concurrent import futures

import grpc
from flyteidl.service import auth_pb2

ap = argparse.ArgumentParser()
ap.add_argument("upstream")
ap.add_argument("log")
ap.add_argument("--client-id")
ap.add_argument("--client-secret")
ap.add_argument("--expire-after", type=int, default=0)
args = ap.parse_args()

lock = threading.Lock()
state = {"valid": {"static-token"} if not args.client_id else set(), "accepted": 0, "issued": 0, "expired": False}


def log(**kw):
    with lock, open(args.log, "a") as f:
        f.write(json.dumps(kw) + "\n")


class Token(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        want = "Basic " + base64.b64encode(f"{args.client_id}:{args.client_secret}".encode()).decode()
        ok = self.headers.get("Authorization") == want and "grant_type=client_credentials" in body
        if ok:
            with lock:
                token = secrets.token_hex(8)
                state["valid"].add(token)
                state["issued"] += 1
                data = json.dumps({"access_token": token, "token_type": "bearer", "expires_in": 3600})
            code = 200
        else:
            code, data = 401, json.dumps({"error": "invalid_client"})
        log(method="POST /token", ok=ok)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *a):
        pass


http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Token)
token_url = f"http://127.0.0.1:{http_server.server_port}/token"
threading.Thread(target=http_server.serve_forever, daemon=True).start()
upstream = grpc.insecure_channel(args.upstream)


def metadata(_req, _ctx):
    return auth_pb2.OAuth2MetadataResponse(
        issuer="http://127.0.0.1", token_endpoint=token_url, grant_types_supported=["client_credentials"]
    ).SerializeToString()


def public_config(_req, _ctx):
    return auth_pb2.PublicClientAuthConfigResponse(client_id="flytectl", scopes=["all"]).SerializeToString()


class Proxy(grpc.GenericRpcHandler):
    def service(self, details):
        method = details.method
        if method.endswith("AuthMetadataService/GetOAuth2Metadata"):
            return grpc.unary_unary_rpc_method_handler(metadata)
        if method.endswith("AuthMetadataService/GetPublicClientConfig"):
            return grpc.unary_unary_rpc_method_handler(public_config)

        def forward(req, ctx):
            auth = dict(ctx.invocation_metadata()).get("authorization")
            with lock:
                if args.expire_after and not state["expired"] and state["accepted"] >= args.expire_after:
                    state["expired"] = True
                    state["valid"].clear()
                ok = auth is not None and auth.startswith("Bearer ") and auth[7:] in state["valid"]
                if ok:
                    state["accepted"] += 1
            log(method=method, authorized=ok)
            if not ok:
                ctx.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or expired token")
            try:
                return upstream.unary_unary(method)(req, timeout=30)
            except grpc.RpcError as e:
                ctx.abort(e.code(), e.details())

        return grpc.unary_unary_rpc_method_handler(forward)


server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), handlers=[Proxy()])
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"READY 127.0.0.1:{port} {token_url}", flush=True)
server.wait_for_termination()
