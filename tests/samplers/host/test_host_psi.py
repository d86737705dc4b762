"""PsiSampler: avg10 and the rate of `total` from fixture /proc/pressure, and the real machine."""

from __future__ import annotations

from typing import Any

import pytest

from perftui.samplers.psi import PsiSampler, parse_pressure


def pressure(some_avg: float, some_total: int, full_avg: float | None = None, full_total: int = 0) -> str:
    text = f"some avg10={some_avg:.2f} avg60=0.00 avg300=0.00 total={some_total}\n"
    if full_avg is not None:
        text += f"full avg10={full_avg:.2f} avg60=0.00 avg300=0.00 total={full_total}\n"
    return text


def write_all(proc: Any, cpu: int, io: int, io_full: int, mem: int) -> None:
    proc.write("pressure/cpu", pressure(6.17, cpu, 0.0, 0))
    proc.write("pressure/io", pressure(4.48, io, 4.33, io_full))
    proc.write("pressure/memory", pressure(0.0, mem, 0.0, 0))


def test_avg10_and_exact_stall_rates(proc: Any, clock: Any) -> None:
    write_all(proc, cpu=4_000_000, io=1_000_000, io_full=900_000, mem=0)
    s = PsiSampler(1.0, proc_root=str(proc), clock=clock)
    assert s.availability().available
    v = s.sample()
    assert v["psi.cpu.some10"] == pytest.approx(6.17)
    assert v["psi.io.full10"] == pytest.approx(4.33)
    assert v["psi.cpu.some_rate"] is None
    clock.advance(2.0)
    # 2 s elapsed: cpu 1.0 s stalled (50 %), io some 0.5 s (25 %), io full 0.2 s (10 %)
    write_all(proc, cpu=5_000_000, io=1_500_000, io_full=1_100_000, mem=0)
    v = s.sample()
    assert v["psi.cpu.some_rate"] == pytest.approx(50.0)
    assert v["psi.io.some_rate"] == pytest.approx(25.0)
    assert v["psi.io.full_rate"] == pytest.approx(10.0)
    assert v["psi.memory.some_rate"] == 0.0
    assert v["psi.memory.full_rate"] == 0.0
    # system-wide cpu "full" is a constant 0 by the kernel: not a measurement
    assert "psi.cpu.full10" not in v and "psi.cpu.full_rate" not in v


def test_rate_is_capped_at_100_and_reset_gives_none(proc: Any, clock: Any) -> None:
    s = PsiSampler(1.0, proc_root=str(proc), clock=clock)
    write_all(proc, cpu=0, io=0, io_full=0, mem=0)
    s.sample()
    clock.advance(1.0)
    write_all(proc, cpu=1_002_000, io=0, io_full=0, mem=0)  # a hair above the elapsed time
    assert s.sample()["psi.cpu.some_rate"] == 100.0
    clock.advance(1.0)
    write_all(proc, cpu=10, io=0, io_full=0, mem=0)  # went backwards: reset, no value
    assert s.sample()["psi.cpu.some_rate"] is None


def test_missing_pressure_directory_is_unavailable_with_reason(proc: Any) -> None:
    st = PsiSampler(1.0, proc_root=str(proc)).availability()
    assert not st.available
    assert st.reason is not None and "no " in st.reason and "pressure" in st.reason
    assert "psi=0" in st.reason


def test_unreadable_file_is_unavailable_with_reason(proc: Any) -> None:
    proc.mkdir("pressure/cpu")  # reading a directory fails with EISDIR
    st = PsiSampler(1.0, proc_root=str(proc)).availability()
    assert not st.available and "pressure/cpu" in (st.reason or "")


def test_missing_single_file_and_missing_full_line(proc: Any, clock: Any) -> None:
    proc.write("pressure/cpu", pressure(1.0, 100))  # old kernel: no cpu full line
    proc.write("pressure/io", pressure(2.0, 100, 1.0, 50))
    s = PsiSampler(1.0, proc_root=str(proc), clock=clock)
    assert s.availability().available
    v = s.sample()
    assert v["psi.cpu.some10"] == 1.0 and v["psi.io.some10"] == 2.0
    assert not any(k.startswith("psi.memory") for k in v)
    assert s.details()["psi.missing"] == ["memory"]


def test_parse_ignores_garbage() -> None:
    parsed = parse_pressure("some avg10=1.5 bogus total=x\nweird line\nfull avg10=0.25 total=7\n")
    assert parsed == {"some": {"avg10": 1.5}, "full": {"avg10": 0.25, "total": 7.0}}


def test_real_machine_has_psi() -> None:
    s = PsiSampler(0.1)
    st = s.availability()
    assert st.available, st.reason
    s.sample()
    v = s.sample()
    for res in ("cpu", "io", "memory"):
        assert 0.0 <= (v[f"psi.{res}.some10"] or 0) <= 100.0
        rate = v[f"psi.{res}.some_rate"]
        assert rate is not None and 0.0 <= rate <= 100.0
