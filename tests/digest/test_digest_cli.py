"""`users set-digest` and `users add --email` at the command line: saved, audited, a link sent
through the real SMTP server that the web app accepts, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from operational import audit, digests
from tests.digest.test_settings_page import confirm, link_in
from tests.digest.world import PROJECT, DigestWorld
from tests.mail_server import MailServer


@pytest.fixture
def world(tmp_path: Path, mail_server: MailServer) -> DigestWorld:
    return DigestWorld(tmp_path / "instance", mail_server)


def test_set_digest_sends_a_link_the_web_app_accepts(world: DigestWorld) -> None:
    done = world.cli("users", "set-digest", "llr.nurse", "--email", "nurse@example.nhs.uk", "--every", "daily")
    assert done.returncode == 0, done.stderr
    assert "llr.nurse: digest daily to nurse@example.nhs.uk (not verified yet)" in done.stdout
    assert "sent a link to confirm nurse@example.nhs.uk" in done.stdout
    path = link_in(world, "nurse@example.nhs.uk")
    nurse = world.client("llr.nurse", "a long enough password 1")
    assert confirm(nurse.client, path).status_code == 200
    assert digests.get(world.engine, world.user_id("llr.nurse")).verified
    entry = audit.recent(world.engine, event="admin_action")[0]
    assert entry["username"].startswith("cli:") and entry["detail"]["target"] == "llr.nurse"

    off = world.cli("users", "set-digest", "llr.nurse", "--every", "off")
    assert off.returncode == 0 and "digest off to nurse@example.nhs.uk (verified)" in off.stdout
    assert len(world.mail.mailbox.messages) == 1  # the same, confirmed address: no new link


def test_users_add_takes_an_email(world: DigestWorld) -> None:
    added = subprocess.run(
        [
            sys.executable,
            "app.py",
            "users",
            "add",
            "new.manager",
            "--cdop",
            "LLR",
            "--password-stdin",
            "--email",
            "new.manager@example.nhs.uk",
            "--every",
            "weekly",
        ],
        cwd=PROJECT,
        env={**os.environ, **world.environ},
        input="a long enough password 9\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    assert "new.manager: digest weekly to new.manager@example.nhs.uk (not verified yet)" in added.stdout
    link_in(world, "new.manager@example.nhs.uk")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "--every", "daily"), "error: no user 'nobody'"),
        (("llr.nurse", "--email", "not an address"), "error: that is not an e-mail address"),
        (("llr.nurse", "--email", "a@example.nhs.uk", "--every", "daily", "--even-when-empty"), "error: --even-when"),
        (("blu", "--email", ""), "error: give an e-mail address"),
    ],
)
def test_set_digest_refuses_bad_input_in_one_line(world: DigestWorld, args: tuple[str, ...], message: str) -> None:
    result = world.cli("users", "set-digest", *args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_with_the_mail_server_down_the_address_is_saved_and_the_exit_code_says_the_link_was_not_sent(
    world: DigestWorld,
) -> None:
    world.mail.stop()
    result = world.cli("users", "set-digest", "llr.nurse", "--email", "nurse@example.nhs.uk", "--every", "daily")
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert "the link to confirm the address was not sent" in result.stderr and "--resend-link" in result.stderr
    assert digests.get(world.engine, world.user_id("llr.nurse")).email == "nurse@example.nhs.uk"
    world.mail.start()
    again = world.cli("users", "set-digest", "llr.nurse", "--resend-link")
    assert again.returncode == 0, again.stderr
    link_in(world, "nurse@example.nhs.uk")
