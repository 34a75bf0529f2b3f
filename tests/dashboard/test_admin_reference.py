"""The reference data page and the ODS refresh preview: admins only, nothing written."""

from __future__ import annotations

import io
import json
import re

from operational import audit
from tests.conftest import make_app, signed_in
from tests.dash_client import DashClient
from tests.ingest.test_ods import SITES, TRUSTS, _bytes, ods_row


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def upload(client, trusts: bytes, sites: bytes, csrf: str | None = None):
    csrf = csrf if csrf is not None else token(client.get("/admin/reference/ods").get_data(as_text=True))
    data = {"csrf_token": csrf, "trusts": (io.BytesIO(trusts), "etr.csv"), "sites": (io.BytesIO(sites), "ets.csv")}
    return client.post("/admin/reference/ods", data=data, content_type="multipart/form-data")


def test_an_admin_previews_an_ods_refresh_of_several_megabytes_and_nothing_is_written(own_settings) -> None:
    app = make_app(own_settings)
    admin = signed_in(app, "admin", "admin-demo")
    before = own_settings.store_path.stat().st_mtime_ns
    # a full ets.csv is several MB, over the 1 MB callback limit: this route takes it
    sites = _bytes(SITES + [ods_row(f"QQ{i % 10}{i % 100:02d}", "A CLINIC") for i in range(20_000)])
    assert len(sites) > 1_000_000
    response = upload(admin, _bytes(TRUSTS), sites)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    assert "1 new trusts, 1 renamed, 0 closed; 1 new sites" in page and "--apply" in page
    assert own_settings.store_path.stat().st_mtime_ns == before
    assert not (own_settings.data_dir / "reference").exists()
    bad = upload(admin, b"nonsense", _bytes(SITES))
    assert bad.status_code == 400 and "Nothing was read" in bad.get_data(as_text=True)
    summary = DashClient(admin).outputs("reference-summary.children", {"reference-summary.id": "reference-summary"})
    assert "Every trust with an inpatient site is in some CDOP" in json.dumps(summary)


def test_a_cdop_user_is_refused_and_recorded(own_settings) -> None:
    app = make_app(own_settings)
    glos = signed_in(app, "glos")
    assert glos.get("/admin/reference/ods").status_code == 403
    big = _bytes(SITES) * 30_000  # over the ordinary limit: refused before it is read
    assert upload(glos, _bytes(TRUSTS), big, csrf="x").status_code in (403, 413)
    assert upload(glos, _bytes(TRUSTS), _bytes(SITES), csrf="x").status_code in (400, 403)
    assert DashClient(glos).call("reference-summary.children", {"reference-summary.id": "x"}).status_code == 204
    engine = app.server.extensions["cdop"].engine
    pages = [e["detail"]["page"] for e in audit.recent(engine, event="forbidden") if e["username"] == "glos"]
    assert "/admin/reference/ods" in pages and "/admin/reference" in pages


def test_a_cdop_user_with_a_valid_form_token_is_still_refused(own_settings) -> None:
    """The CSRF check is not what stops them: the route's own admin check is."""
    app = make_app(own_settings)
    glos = signed_in(app, "glos")
    valid = token(glos.get("/password").get_data(as_text=True))
    response = upload(glos, _bytes(TRUSTS), _bytes(SITES), csrf=valid)
    assert response.status_code == 403
    assert "Traceback" not in response.get_data(as_text=True)
    anonymous = app.server.test_client().post("/admin/reference/ods", data={})
    assert anonymous.status_code in (302, 400, 401)
