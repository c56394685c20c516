"""GX Data Docs are rebuilt after each validation, keep the newest results per suite, and are
served over HTTP. Budget: ~15 s."""

from __future__ import annotations

import threading
import urllib.request

from pulse.settings import get_settings
from pulse.validation import cli, engine
from validation.conftest import order, run_batch


def test_each_validation_gets_its_page_the_index_links_it_and_old_ones_are_pruned(toyshop, duckdb_warehouse,
                                                                                  monkeypatch):
    monkeypatch.setenv("PULSE_DATA_DOCS_ENABLED", "true")
    monkeypatch.setenv("PULSE_DATA_DOCS_KEEP_PER_SUITE", "2")
    get_settings.cache_clear()
    batches = [run_batch(duckdb_warehouse, [order(i + 10 * n) for i in range(1, 6)])[0] for n in range(3)]
    with duckdb_warehouse.connect() as connection:
        pages = dict(connection.fetchall(
            "select batch_id, data_docs_path from meta.validation_results where stream = 'orders'"))
    assert set(pages) == set(batches)
    docs = engine.data_docs_dir()
    index = (docs / "index.html").read_text()
    for batch_id in batches[1:]:
        assert (docs / pages[batch_id]).is_file()
        assert batch_id in index
    # only the newest two results per suite are kept, in the store and in the site
    assert batches[0] not in index
    assert not (docs / pages[batches[0]]).exists()
    assert "toyshop.orders" in (docs / pages[batches[2]]).read_text()


def test_the_folder_is_served_over_http(toyshop, monkeypatch):
    (engine.data_docs_dir()).mkdir(parents=True, exist_ok=True)
    (engine.data_docs_dir() / "index.html").write_text("<html>pulse data docs</html>")
    server = cli.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and b"pulse data docs" in response.read()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
