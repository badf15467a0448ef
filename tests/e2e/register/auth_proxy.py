"""A gRPC proxy in front of the FlyteAdmin stand-in that demands a bearer token, for testing
`fledge register`'s auth (the stand-in has none).

Usage: python auth_proxy.py UPSTREAM_ADDR LOG_FILE [--client-id ID --client-secret SECRET] [--expire-after N]
       python auth_proxy.py UPSTREAM_ADDR LOG_FILE --pkce REDIRECT_URI [--deny] [--expire-after N]

- AuthMetadataService/GetOAuth2Metadata and GetPublicClientConfig answer without auth; the token
  endpoint is a small HTTP server here (`POST /token`, client credentials with HTTP Basic auth).
- `--pkce REDIRECT_URI`: a browser login instead. The public client config names client `flytectl`
  and REDIRECT_URI; `GET /authorize` approves at once (302 to the redirect URI with `code` and
  `state`), or with `--deny` answers `error=access_denied`. `POST /token` grants
  `authorization_code` (only with the verifier matching the S256 challenge, the same redirect URI
  and client id, each code once) and `refresh_token` (refresh tokens rotate: the old one dies).
- Every other call must carry `authorization: Bearer <a valid token issued>` (or `static-token`
  when no client id is given), else UNAUTHENTICATED; accepted calls are forwarded as raw bytes.
- `--expire-after N` invalidates every access token issued so far once, after N accepted calls (as
  if they had expired), forcing a refresh; refresh tokens stay valid.
Prints `READY <grpc addr> <token url>` once serving; every call is a JSON line in LOG_FILE.
Needs grpcio and flyteidl (the stand-in's venv).
"""
import argparse
import base64
import hashlib
import http.server
import json
import secrets
import threading
import urllib.parse
from concurrent import futures

import grpc
from flyteidl.service import auth_pb2

ap = argparse.ArgumentParser()
ap.add_argument("upstream")
ap.add_argument("log")
ap.add_argument("--client-id")
ap.add_argument("--client-secret")
ap.add_argument("--expire-after", type=int, default=0)
ap.add_argument("--pkce", metavar="REDIRECT_URI")
ap.add_argument("--deny", action="store_true")
args = ap.parse_args()
PKCE_CLIENT = "flytectl"

lock = threading.Lock()
state = {
    "valid": {"static-token"} if not (args.client_id or args.pkce) else set(),
    "accepted": 0,
    "issued": 0,
    "expired": False,
    "codes": {},  # code -> (challenge, redirect_uri, client_id)
    "refresh": set(),
}


def log(**kw):
    with lock, open(args.log, "a") as f:
        f.write(json.dumps(kw) + "\n")


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def issue(with_refresh):
    """Under the lock: a new access token (and refresh token)."""
    token = secrets.token_hex(8)
    state["valid"].add(token)
    state["issued"] += 1
    out = {"access_token": token, "token_type": "bearer", "expires_in": 3600}
    if with_refresh:
        rt = "r-" + secrets.token_hex(8)
        state["refresh"].add(rt)
        out["refresh_token"] = rt
    return out


class Token(http.server.BaseHTTPRequestHandler):
    def reply(self, code, data, content_type="application/json", headers=()):
        body = data.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path != "/authorize" or not args.pkce:
            return self.reply(404, "{}")
        ok = (
            q.get("response_type") == "code"
            and q.get("client_id") == PKCE_CLIENT
            and q.get("redirect_uri") == args.pkce
            and q.get("code_challenge_method") == "S256"
            and bool(q.get("code_challenge"))
            and bool(q.get("state"))
        )
        log(method="GET /authorize", ok=ok, denied=args.deny, scope=q.get("scope"))
        if not ok:
            return self.reply(400, json.dumps({"error": "invalid_request", "query": q}))
        if args.deny:
            back = {"error": "access_denied", "error_description": "The user denied the request", "state": q["state"]}
        else:
            code = secrets.token_hex(8)
            with lock:
                state["codes"][code] = (q["code_challenge"], q["redirect_uri"], q["client_id"])
            back = {"code": code, "state": q["state"]}
        self.reply(302, "", "text/plain", [("Location", args.pkce + "?" + urllib.parse.urlencode(back))])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        form = dict(urllib.parse.parse_qsl(body))
        grant = form.get("grant_type")
        data = None
        if args.pkce and grant == "authorization_code":
            with lock:
                challenge, redirect, client = state["codes"].pop(form.get("code", ""), (None, None, None))
                verifier = form.get("code_verifier", "")
                ok = (
                    challenge is not None
                    and b64url(hashlib.sha256(verifier.encode()).digest()) == challenge
                    and form.get("redirect_uri") == redirect
                    and form.get("client_id") == client
                )
                if ok:
                    data = issue(True)
        elif args.pkce and grant == "refresh_token":
            with lock:
                rt = form.get("refresh_token", "")
                ok = rt in state["refresh"] and form.get("client_id") == PKCE_CLIENT
                if ok:
                    state["refresh"].discard(rt)
                    data = issue(True)
        else:
            want = "Basic " + base64.b64encode(f"{args.client_id}:{args.client_secret}".encode()).decode()
            ok = self.headers.get("Authorization") == want and grant == "client_credentials"
            if ok:
                with lock:
                    data = issue(False)
        log(method="POST /token", grant=grant, ok=ok)
        if ok:
            self.reply(200, json.dumps(data))
        else:
            self.reply(400 if args.pkce else 401, json.dumps({"error": "invalid_grant" if args.pkce else "invalid_client"}))

    def log_message(self, *a):
        pass


http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Token)
token_url = f"http://127.0.0.1:{http_server.server_port}/token"
authorize_url = f"http://127.0.0.1:{http_server.server_port}/authorize"
threading.Thread(target=http_server.serve_forever, daemon=True).start()
upstream = grpc.insecure_channel(args.upstream)


def metadata(_req, _ctx):
    if args.pkce:
        return auth_pb2.OAuth2MetadataResponse(
            issuer="http://127.0.0.1",
            authorization_endpoint=authorize_url,
            token_endpoint=token_url,
            grant_types_supported=["authorization_code", "refresh_token"],
            code_challenge_methods_supported=["S256"],
        ).SerializeToString()
    return auth_pb2.OAuth2MetadataResponse(
        issuer="http://127.0.0.1", token_endpoint=token_url, grant_types_supported=["client_credentials"]
    ).SerializeToString()


def public_config(_req, _ctx):
    if args.pkce:
        return auth_pb2.PublicClientAuthConfigResponse(
            client_id=PKCE_CLIENT, redirect_uri=args.pkce, scopes=["offline", "all"]
        ).SerializeToString()
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
