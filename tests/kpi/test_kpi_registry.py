"""The KPI registry against the catalogue it restates (KPIS.md), the data contracts and the
sandbox incidents; and the loader's refusals. Budget: under 2 s."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from pulse.kpi.registry import REGISTRY_PATH, RegistryError, load_registry, parse_registry
from pulse.sandbox.incidents import SPECS
from pulse.settings import REPO_ROOT

HERE = Path(__file__).parent
# A copy of ../shared/KPIS.md kept with the tests so a fresh clone can run them; when the shared
# original is present, the copy must not have drifted from it.
CATALOGUE = HERE / "KPIS.md"
SHARED_CATALOGUE = REPO_ROOT.parent / "shared" / "KPIS.md"


def catalogue_rows() -> dict[str, bool]:
    """Every KPI reference of KPIS.md's tables -> whether it is marked Σ (daily summary)."""
    rows: dict[str, bool] = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2:
            continue
        ref, name = cells[0], cells[1]
        if ref.isdigit():
            rows[ref] = "Σ" in name
        elif match := re.fullmatch(r"([CQSKG])(\d)(?:-[CQSKG](\d))?", ref):
            letter, first, last = match.group(1), int(match.group(2)), int(match.group(3) or match.group(2))
            for number in range(first, last + 1):
                rows[f"{letter}{number}"] = False
    return rows


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))


def test_the_catalogue_copy_matches_the_shared_one():
    if not SHARED_CATALOGUE.exists():
        return  # fresh clone without the shared folder: the copy is the reference
    assert CATALOGUE.read_text(encoding="utf-8") == SHARED_CATALOGUE.read_text(encoding="utf-8")


def test_catalogue_parsing_finds_every_row():
    rows = catalogue_rows()
    expected = {str(n) for n in range(1, 51)} | {f"C{n}" for n in range(1, 5)} | {f"Q{n}" for n in range(1, 7)} \
        | {f"S{n}" for n in range(1, 5)} | {f"K{n}" for n in range(1, 8)} | {f"G{n}" for n in range(1, 9)}
    assert set(rows) == expected
    assert sum(rows.values()) == 20


def test_every_catalogue_row_is_in_the_registry(registry):
    refs = {kpi.ref for kpi in registry}
    missing = sorted(set(catalogue_rows()) - refs)
    assert not missing, f"KPIS.md rows without a registry entry: {missing}"
    assert refs <= set(catalogue_rows())


def test_summary_is_exactly_the_sigma_rows(registry):
    summary = registry.summary()
    assert len(summary) == 20
    sigma = {ref for ref, marked in catalogue_rows().items() if marked}
    assert {kpi.ref for kpi in summary} == sigma
    # one summary tile per Σ row
    assert len({kpi.ref for kpi in summary}) == 20


def test_ids_are_unique_snake_case_and_lookups_work(registry):
    ids = [kpi.id for kpi in registry]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", kpi_id) for kpi_id in ids)
    assert registry.get("revenue").title == "Revenue"
    assert "revenue" in registry and "no_such_kpi" not in registry
    with pytest.raises(KeyError, match="no_such_kpi"):
        registry.get("no_such_kpi")
    assert [kpi.id for kpi in registry.by_ref("33")] == [
        "average_order_value", "order_value_median", "order_value_min", "order_value_max"]


def test_incidents_name_registry_kpis(registry):
    for spec in SPECS:
        for kpi_id in spec.affected:
            assert kpi_id in registry, f"incident {spec.name} names unknown KPI {kpi_id}"


def test_article_benchmarks_are_targets(registry):
    targets = {kpi.id: kpi.target for kpi in registry if kpi.target}
    assert targets["bounce_rate"].max == 0.30
    assert targets["cart_abandonment_rate"].max == 0.30
    assert targets["new_visitor_rate"].max == 0.40
    assert targets["roas"].min == 2
    assert targets["call_wait_time"].max == 40
    assert targets["resolution_time"].max == 48
    assert targets["cost_per_lead"].max == 200
    assert targets["bounce_rate"].met_by(0.29) and not targets["bounce_rate"].met_by(0.31)
    assert targets["roas"].met_by(4) and not targets["roas"].met_by(1.9)
    for kpi_id, target in targets.items():
        kpi = registry.get(kpi_id)
        assert kpi.benchmark, f"{kpi_id}: a target needs the benchmark words it comes from"
        # a target bounds the bad side: a ceiling for lower-is-better KPIs, a floor for higher
        assert (target.max is not None) == (kpi.better == "lower"), kpi_id


def test_only_margin_is_confidential(registry):
    assert {kpi.id for kpi in registry if kpi.confidential} == {"profit_margin", "profit_margin_rate"}


def test_grains_slices_and_kinds(registry):
    assert registry.get("nps").grains == ("month", "quarter")
    for kpi in registry.periodic():
        assert kpi.grains, kpi.id
        for slice_name in kpi.slices:
            assert slice_name in registry.slices
    for kpi in registry:
        if kpi.kind in {"ratio", "share", "average"}:
            assert kpi.numerator and kpi.denominator, kpi.id
    # resellers see their own rows of every summary KPI that is not confidential and comes from the shop
    shop_summary = [kpi for kpi in registry.summary() if kpi.sources == ("SHOP",) and not kpi.confidential]
    assert shop_summary
    assert all("reseller" in kpi.slices for kpi in shop_summary), [k.id for k in shop_summary]


def test_list_kpis_hold_the_contract_tables(registry):
    contract = (REPO_ROOT / "docs" / "data-contracts.md").read_text(encoding="utf-8")
    tables = {}
    for match in re.finditer(r"^\| `kpi\.(\w+)` \| ([^|]+) \|$", contract, flags=re.MULTILINE):
        tables[match.group(1)] = [re.sub(r"\s*\(.*\)", "", column).strip() for column in match.group(2).split(",")]
    assert {"top_search_terms", "customer_facts", "quote_list"} <= set(tables)
    for kpi in registry.lists():
        assert kpi.table in tables, f"{kpi.id}: no kpi.{kpi.table} in data-contracts.md"
        if kpi.table == "customer_facts":
            assert set(kpi.columns) <= set(tables[kpi.table]), kpi.id
        else:
            assert list(kpi.columns) == tables[kpi.table], kpi.id
    # together, the per-customer KPIs cover the whole customer_facts table
    covered = {column for kpi in registry.lists() if kpi.table == "customer_facts" for column in kpi.columns}
    assert covered == set(tables["customer_facts"])


def test_acquisition_channel_rules_end_with_otherwise(registry):
    rules = registry.acquisition_channels
    assert rules[0].channel == "Offline" and rules[-1].otherwise


# ---------------------------------------------------------------- the loader refuses bad files
def _broken(document, change) -> dict:
    document = copy.deepcopy(document)
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["kpis"].append(copy.deepcopy(d["kpis"][0])), "appears more than once"),
        (lambda d: d["kpis"][0].update(area="marketing"), r"KPI 'suspects' \(entry 1\): area 'marketing'"),
        (lambda d: d["kpis"][0].update(kind="mean"), "kind 'mean'"),
        (lambda d: d["kpis"][0].update(grains=["day", "year"]), "grains"),
        (lambda d: d["kpis"][0].update(slices=["colour"]), "not declared"),
        (lambda d: d["kpis"][0].update(sources=["FAX"]), "sources"),
        (lambda d: d["kpis"][0].update(summary=True), "exactly 20"),
        (lambda d: d["kpis"][0].pop("definition"), "missing field"),
        (lambda d: d["kpis"][0].update(colour="red"), "unknown field"),
        (lambda d: d["kpis"][0].update(ref="51"), "ref '51'"),
        (lambda d: d["kpis"][0].update(id="Suspects"), "snake_case"),
        (lambda d: d["kpis"][0].update(target={"below": 3}), "target"),
        (lambda d: next(k for k in d["kpis"] if k["id"] == "bounce_rate").pop("denominator"), "denominator"),
        (lambda d: next(k for k in d["kpis"] if k["id"] == "profit_margin")["slices"].append("reseller"),
         "confidential"),
        (lambda d: next(k for k in d["kpis"] if k["id"] == "top_customers").pop("columns"), "table"),
        (lambda d: d["acquisition_channels"].pop(), "otherwise"),
    ],
)
def test_the_loader_names_the_kpi_and_the_rule(document, change, message):
    with pytest.raises(RegistryError, match=message):
        parse_registry(_broken(document, change))


def test_the_file_as_committed_parses_the_same_as_loaded(document, registry):
    assert parse_registry(document) == registry


def test_the_reference_page_is_rendered_from_the_registry(registry):
    from pulse.kpi.reference import REFERENCE_PATH, render_reference

    assert REFERENCE_PATH.read_text(encoding="utf-8") == render_reference(registry), (
        "docs/kpis.md is stale: run `python -m pulse.kpi.reference`")
