"""An app's first requests may arrive all at once: one of gunicorn's workers gets the scripts of
a page another worker served. Dash sets itself up on its first request, and marks that done
before it is; create_app does it before any request arrives, so no script is refused."""

from __future__ import annotations

import re
import threading

from dashboard.app import create_app
from settings import Settings
from tests.conftest import signed_in


def test_a_fresh_app_serves_scripts_asked_for_all_at_once(own_settings: Settings) -> None:
    page_worker, fresh_worker = create_app(own_settings), create_app(own_settings)  # one store, as workers
    page = signed_in(page_worker, "llr").get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert len(scripts) >= 5, page[:500]

    answers: list[int] = []
    start = threading.Barrier(len(scripts))

    def fetch(url: str) -> None:
        client = fresh_worker.server.test_client()
        start.wait()
        answers.append(client.get(url).status_code)

    threads = [threading.Thread(target=fetch, args=(url,)) for url in scripts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(scripts)
