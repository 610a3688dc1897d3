"""An SMTP server for the email notification tests (Debian's python3-aiosmtpd).

Usage: smtp-server.py CERT KEY USER PASSWORD. Listens on 127.0.0.1 (an ephemeral port) with
STARTTLS required before AUTH PLAIN/LOGIN and before mail; prints `port <n>` once listening,
then one JSON line per accepted message: envelope, authenticated user, whether TLS was on, and
the raw message. Exits when stdin closes.
"""
import asyncio
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "user": session.auth_data.login.decode() if session.auth_data else None,
            "tls": session.ssl is not None,
            "data": envelope.content.decode("utf8", "replace"),
        }), flush=True)
        return "250 OK"


def main():
    cert, key, user, password = sys.argv[1:5]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, auth_data=auth_data)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, tls_context=context,
        require_starttls=True, authenticator=authenticator, auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    print(f"port {port}", flush=True)
    sys.stdin.read()
    controller.stop()


main()
