"""An S3-compatible server for tests: moto's server mode (its S3 REST API over real HTTP), with the one
check S3 and MinIO make that moto doesn't: a presigned (query-string SigV4) request must carry a valid
signature and be inside its `X-Amz-Expires`, or it gets S3's 403 `AccessDenied` ("Request has expired")
or `SignatureDoesNotMatch`. Everything else is moto's."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

ACCESS_KEY = "recast-test-key"
SECRET_KEY = "recast-test-secret"
REGION = "us-east-1"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def _error(start_response: StartResponse, code: str, message: str) -> Iterable[bytes]:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class PresignedChecks:
    """WSGI middleware: verify query-string SigV4 (expiry first, as S3 does), then hand over to moto."""

    def __init__(self, app: Any, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.app = app
        self.clock = clock
        self.refused: list[str] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for the tests

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        self.requests.append((environ["REQUEST_METHOD"], environ.get("RAW_URI") or environ["PATH_INFO"]))
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        params = dict(query)
        if "X-Amz-Signature" not in params:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if self.clock() > signed_at + timedelta(seconds=int(params["X-Amz-Expires"])):
            self.refused.append("expired")
            return _error(start_response, "AccessDenied", "Request has expired")
        if not hmac.compare_digest(params["X-Amz-Signature"], self._signature(environ, query)):
            self.refused.append("signature")
            return _error(start_response, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        return self.app(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def _signature(environ: Environ, query: list[tuple[str, str]]) -> str:
        params = dict(query)
        unsigned = urlencode([(k, v) for k, v in query if k != "X-Amz-Signature"])
        url = f"http://{environ['HTTP_HOST']}{environ.get('RAW_URI') or environ['PATH_INFO']}".split("?")[0]
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=f"{url}?{unsigned}", headers={})
        request.context["timestamp"] = params["X-Amz-Date"]
        scope = params["X-Amz-Credential"].split("/")
        auth = S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), scope[3], scope[2], expires=0)
        canonical = auth.canonical_request(request)
        return str(auth.signature(auth.string_to_sign(request, canonical), request))


class S3Server(ThreadedMotoServer):
    """`ThreadedMotoServer` on a free port of 127.0.0.1, its app wrapped in `PresignedChecks`."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.checks = PresignedChecks(DomainDispatcherApplication(create_backend_app))

    def _server_entry(self) -> None:
        self._server = make_server(self._ip_address, self._port, self.checks, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"
