import pytest

from perftui.core.specs import REGISTRY, MetricSpec, SpecRegistry, spec_for
from perftui.core.units import Unit, format_value


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, Unit.PERCENT, "—"),
        (float("nan"), Unit.BYTES, "—"),
        (5.25, Unit.PERCENT, "5.2 %"),
        (97.4, Unit.PERCENT, "97 %"),
        (0, Unit.BYTES, "0 B"),
        (1536, Unit.BYTES, "1.5 KiB"),
        (80 * 1024**3, Unit.BYTES, "80.0 GiB"),
        (123_456_789, Unit.BYTES_PER_S, "123 MB/s"),
        (1_500, Unit.BYTES_PER_S, "1.5 kB/s"),
        (312.4, Unit.WATTS, "312 W"),
        (64.0, Unit.CELSIUS, "64 °C"),
        (1980.0, Unit.MHZ, "1980 MHz"),
        (0.0042, Unit.SECONDS, "4.2 ms"),
        (12_345, Unit.PER_S, "12.3k/s"),
        (0x24, Unit.FLAGS, "0x24"),
    ],
)
def test_format_value(value: float | None, unit: Unit, text: str) -> None:
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("cpu.util", "cpu.util"),
        ("cpu.core.17.util", "cpu.core.*.util"),
        ("disk.nvme0n1.read_bytes_per_s", "disk.*.read_bytes_per_s"),
        ("net.eth0.100.rx_bytes_per_s", "net.*.rx_bytes_per_s"),
        ("net.tcp.retrans_per_s", "net.tcp.retrans_per_s"),
        ("gpu.7.sm_active", "gpu.*.sm_active"),
        ("gpu.0.gpm_pcie_tx_bytes_per_s", "gpu.*.gpm_pcie_tx_bytes_per_s"),
        ("stack.share.dataloader", "stack.share.dataloader"),
        ("psi.memory.full_rate", "psi.memory.full_rate"),
    ],
)
def test_registry_resolves_keys(key: str, pattern: str) -> None:
    spec = spec_for(key)
    assert spec is not None and spec.pattern == pattern


def test_unknown_key_has_no_spec_and_formats_as_count() -> None:
    assert spec_for("no.such.key") is None
    assert REGISTRY.format("no.such.key", 3) == "3"


def test_every_spec_is_complete() -> None:
    for spec in REGISTRY.all():
        assert spec.description, spec.pattern
        assert spec.source, spec.pattern
        if spec.unit is Unit.PERCENT and not spec.pattern.startswith("proc.cpu"):
            assert spec.natural_max == 100, spec.pattern


def test_duplicate_patterns_are_rejected() -> None:
    reg = SpecRegistry([MetricSpec("a.*.b", Unit.COUNT, "x", source="s")])
    with pytest.raises(ValueError):
        reg.register(MetricSpec("a.*.b", Unit.COUNT, "y", source="s"))
    with pytest.raises(ValueError):
        SpecRegistry([MetricSpec("a", Unit.COUNT, "x"), MetricSpec("a", Unit.COUNT, "x")])


def test_most_specific_wildcard_wins() -> None:
    reg = SpecRegistry(
        [
            MetricSpec("x.*", Unit.COUNT, "any", source="s"),
            MetricSpec("x.*.bytes", Unit.BYTES, "bytes", source="s"),
        ]
    )
    spec = reg.get("x.dev.bytes")
    assert spec is not None and spec.unit is Unit.BYTES


def test_natural_key_orders_numbers_by_value() -> None:
    from perftui.core.units import natural_key

    keys = ["cpu.core.10", "cpu.core.2", "gpu.1.util", "cpu.core.1", "gpu.10.util", "cpu.total"]
    assert sorted(keys, key=natural_key) == [
        "cpu.core.1",
        "cpu.core.2",
        "cpu.core.10",
        "cpu.total",
        "gpu.1.util",
        "gpu.10.util",
    ]


def test_snapshot_lists_metrics_in_natural_order() -> None:
    from perftui.commands.snapshot import render_text, to_json
    from perftui.store.metric_store import MetricStore

    store = MetricStore()
    store.append(1.0, {f"cpu.core.{i}": float(i) for i in (10, 2, 1)})
    assert list(to_json(store)["metrics"]) == ["cpu.core.1", "cpu.core.2", "cpu.core.10"]
    assert [line.split()[0] for line in render_text(store).splitlines()[1:]] == [
        "cpu.core.1",
        "cpu.core.2",
        "cpu.core.10",
    ]
