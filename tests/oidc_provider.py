"""A real OpenID Connect provider process for the single sign-on tests (oidc-provider-mock).

`python -m tests.oidc_provider [--token-max-age S] [--token-issuer URL]` serves discovery,
JWKS, authorize and token endpoints on a free loopback port and prints the port. Run as its
own process, like a ministry's provider: the portal reaches it over HTTP only.

--token-max-age S   lifetime of the ID tokens it issues (negative: already expired)
--token-issuer URL  answer token requests as if it were URL, so its ID tokens name another
                    issuer than its discovery document (signed with the same keys)
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent


def _other_issuer(app: Callable[..., Iterable[bytes]], issuer: str) -> Callable[..., Iterable[bytes]]:
    host = urlsplit(issuer).netloc

    def middleware(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/oauth2/token":
            environ["HTTP_HOST"] = host  # the provider names its issuer after the host it was asked as
        return app(environ, start_response)

    return middleware


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-max-age", type=int, default=3600)
    parser.add_argument("--token-issuer")
    args = parser.parse_args()
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # http on loopback, in this process only
    import oidc_provider_mock
    from werkzeug.serving import make_server

    app = oidc_provider_mock.app(require_nonce=True, access_token_max_age=timedelta(seconds=args.token_max_age))
    app.debug = False
    wsgi: Callable[..., Iterable[bytes]] = app
    if args.token_issuer:
        wsgi = _other_issuer(app, args.token_issuer)
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


class OidcProvider:
    """Starts and drives one provider process for a test session."""

    def __init__(self, *, token_max_age: int = 3600, token_issuer: str | None = None) -> None:
        self.args = ["--token-max-age", str(token_max_age)]
        if token_issuer:
            self.args += ["--token-issuer", token_issuer]
        self.process: subprocess.Popen[str] | None = None
        self.issuer = ""

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.oidc_provider", *self.args], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.stop()
            raise RuntimeError("the OpenID provider did not start")
        self.issuer = f"http://127.0.0.1:{port}"
        requests.get(self.issuer + "/.well-known/openid-configuration", timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """The person `sub` at the provider, with the claims its ID tokens will carry."""
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10).raise_for_status()

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign in at the provider as `sub` (what the person does there); returns where it sends the browser."""
        response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


if __name__ == "__main__":
    main()
