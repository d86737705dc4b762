"""Prometheus text → samples by name, with `prometheus_client`'s parser; per-model readings of a profile.

Only the lines of the sample names a profile uses go through the (pure-Python, slow) parser: a vLLM
body carries many histograms perftui does not show. Every line's name is still checked, so a body that
is not Prometheus text (an HTML error page, JSON) is refused with the line that gave it away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from perftui.samplers.serving.histogram import Histogram
from perftui.samplers.serving.profiles import Profile

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")

Labels = tuple[tuple[str, str], ...]


class NotPrometheus(ValueError):
    """The body is not Prometheus text exposition (the message names the first bad line)."""


@dataclass
class Scrape:
    """One scrape: sample name -> [(labels, value)], and every family name seen."""

    samples: dict[str, list[tuple[Labels, float]]]
    families: frozenset[str]


def family_of(sample_name: str) -> str:
    for suffix in _SUFFIXES:
        if sample_name.endswith(suffix):
            return sample_name[: -len(suffix)]
    return sample_name


def parse_body(text: str, prefixes: tuple[str, ...], cache: LabelCache | None = None) -> Scrape:
    """Parse the lines whose sample name starts with one of `prefixes`; NotPrometheus for other text.

    `cache` (one per endpoint) remembers what the parser made of each `name{labels}` part: an
    endpoint prints the same series every scrape, so from the second scrape on only the values
    are new (read with float()), and prometheus_client parses just the series it has not seen.
    """
    keep: list[str] = []
    families: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line or line[0] == "#":
            continue
        end = len(line)
        for sep in ("{", " "):
            i = line.find(sep)
            if 0 <= i < end:
                end = i
        name = line[:end]
        if not _NAME.fullmatch(name) or end == len(line):
            raise NotPrometheus(f"not Prometheus text (line {n}: {line[:60]!r})")
        families.add(family_of(name))
        if name.startswith(prefixes) and not name.endswith("_created"):
            keep.append(line)
    samples: dict[str, list[tuple[Labels, float]]] = {}
    memo = cache if cache is not None else {}
    fresh: list[tuple[str, str]] = []  # (series part, line) the parser has not seen
    for line in keep:
        cut = line.rfind("}") + 1 or line.find(" ")
        series = line[:cut]
        known = memo.get(series)
        value = _value(line[cut:]) if known is not None else None
        if known is None or value is None:
            fresh.append((series, line))
            continue
        samples.setdefault(known[0], []).append((known[1], value))
    if fresh:
        _parse_fresh(fresh, memo, samples)
    if len(memo) > MAX_CACHED_SERIES:
        memo.clear()
    return Scrape(samples, frozenset(families))


LabelCache = dict[str, tuple[str, "Labels"]]
MAX_CACHED_SERIES = 200_000


def _value(rest: str) -> float | None:
    parts = rest.split()
    if not parts or len(parts) > 2:
        return None
    try:
        return float(parts[0])
    except ValueError:
        return None


def _parse_fresh(
    fresh: list[tuple[str, str]], memo: LabelCache, samples: dict[str, list[tuple[Labels, float]]]
) -> None:
    parsed: list[tuple[str, Labels, float]] = []
    try:
        for fam in text_string_to_metric_families("\n".join(line for _, line in fresh) + "\n"):
            for smp in fam.samples:
                parsed.append((smp.name, tuple(sorted(smp.labels.items())), float(smp.value)))
    except ValueError as exc:
        raise NotPrometheus(f"not Prometheus text ({str(exc)[:80]})") from None
    same = len(parsed) == len(fresh)  # one sample per line, in order: each series part maps to its sample
    for i, (name, labels, value) in enumerate(parsed):
        if same:
            memo[fresh[i][0]] = (name, labels)
        samples.setdefault(name, []).append((labels, value))


@dataclass
class Reading:
    """What one server (or one model on it) shows in one scrape, in perftui's names and units."""

    counters: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    hists: dict[str, Histogram] = field(default_factory=dict)
    means: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (duration sum, count)


def _first(scrape: Scrape, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in scrape.samples), None)


def _model(labels: Labels, label: str | None) -> str | None:
    if label is None:
        return None
    return next((v for k, v in labels if k == label), None)


def readings(profile: Profile, scrape: Scrape) -> dict[str | None, Reading]:
    """Per model label value (None: all models together) the profile's quantities, summed over label sets."""
    out: dict[str | None, Reading] = {None: Reading()}

    def add(model: str | None, kind: str, name: str, value: float) -> None:
        for key in {None, model}:
            target: dict[str, float] = getattr(out.setdefault(key, Reading()), kind)
            target[name] = target.get(name, 0.0) + value

    for name, cands in profile.counters.items():
        found = _first(scrape, cands)
        series = scrape.samples.get(found, []) if found else []
        if name in profile.selectors:
            label, wanted = profile.selectors[name]
            if not any(k == label for labels, _ in series for k, _ in labels):
                continue  # this generation does not split the counter by that label: no value
            for labels, _ in series:  # every model gets its 0 even with no matching series yet
                add(_model(labels, profile.model_label), "counters", name, 0.0)
            series = [(lb, v) for lb, v in series if any(k == label and x in wanted for k, x in lb)]
        for labels, v in series:
            add(_model(labels, profile.model_label), "counters", name, v)
    gauge_n: dict[tuple[str | None, str], int] = {}
    for name, cands in profile.gauges.items():
        found = _first(scrape, cands)
        for labels, v in scrape.samples.get(found, []) if found else []:
            model = _model(labels, profile.model_label)
            add(model, "gauges", name, v * profile.scale.get(name, 1.0))
            for key in {None, model}:
                gauge_n[(key, name)] = gauge_n.get((key, name), 0) + 1
    for (key, name), count in gauge_n.items():
        if name in ("kv_cache", "prefix_hit") and count > 1:  # shares average over engines; counts add
            out[key].gauges[name] /= count
    for name, (sample, label, num, den) in profile.ratios.items():
        parts: dict[tuple[str | None, str], float] = {}
        for labels, v in scrape.samples.get(sample, []):
            which = next((x for k, x in labels if k == label), None)
            if which in (num, den):
                for key in {None, _model(labels, profile.model_label)}:
                    parts[(key, which)] = parts.get((key, which), 0.0) + v
        for (key, which), total in parts.items():
            if which == den and total > 0 and (key, num) in parts:
                ratio = parts[(key, num)] / total * profile.scale.get(name, 1.0)
                out.setdefault(key, Reading()).gauges[name] = ratio
    for name, cands in profile.histograms.items():
        found = _first(scrape, tuple(c + "_bucket" for c in cands))
        if found:
            _histograms(profile, scrape, found[: -len("_bucket")], name, out)
    for name, (dur, cnt) in profile.mean_counters.items():
        d, c = _first(scrape, (dur + "_total", dur)), _first(scrape, (cnt + "_total", cnt))
        if d and c:
            for key, tot in _sum_by_model(profile, scrape, d).items():
                n = _sum_by_model(profile, scrape, c).get(key, 0.0)
                out.setdefault(key, Reading()).means[name] = (tot * profile.scale.get(name, 1.0), n)
    return out


def _sum_by_model(profile: Profile, scrape: Scrape, sample: str) -> dict[str | None, float]:
    sums: dict[str | None, float] = {}
    for labels, v in scrape.samples.get(sample, []):
        for key in {None, _model(labels, profile.model_label)}:
            sums[key] = sums.get(key, 0.0) + v
    return sums


def _histograms(
    profile: Profile, scrape: Scrape, base: str, name: str, out: dict[str | None, Reading]
) -> None:
    scale = profile.scale.get(name, 1.0)
    series: dict[Labels, dict[float, float]] = {}
    for labels, v in scrape.samples.get(base + "_bucket", []):
        le = next((x for k, x in labels if k == "le"), None)
        if le is None:
            continue
        rest = tuple(kv for kv in labels if kv[0] != "le")
        bound = float(le) * scale
        series.setdefault(rest, {})[bound] = series.get(rest, {}).get(bound, 0.0) + v
    sums = dict(scrape.samples.get(base + "_sum", []))
    counts = dict(scrape.samples.get(base + "_count", []))
    for rest, buckets in series.items():
        h = Histogram.from_buckets(buckets, sums.get(rest, 0.0) * scale, counts.get(rest))
        for key in {None, _model(rest, profile.model_label)}:
            r = out.setdefault(key, Reading())
            prev = r.hists.get(name)
            r.hists[name] = h if prev is None else prev.merged(h)


def generation(profile: Profile, scrape: Scrape) -> str:
    """Which generation of the server's metric names this body is (what a face can say about a version)."""
    s = scrape.samples
    if profile.server == "vllm":
        itl = "vllm:inter_token_latency_seconds_bucket" in s
        tpot = "vllm:time_per_output_token_seconds_bucket" in s
        kv_old = "vllm:gpu_cache_usage_perc" in s
        if kv_old:
            return "vLLM < 0.9 names (gpu_cache_usage_perc)"
        if itl and tpot:
            return "vLLM 0.11–0.12 names (ITL + deprecated time_per_output_token)"
        if itl:
            return "vLLM ≥ 0.11 names (inter_token_latency)"
        return "vLLM 0.9–0.10 names (time_per_output_token)"
    if profile.server == "sglang":
        return f"SGLang ({profile.detect[0]} prefix)"
    if profile.server == "triton" and any(n.startswith("nv_trt_llm_") for n in s):
        return f"{profile.label} (TensorRT-LLM backend)"
    return profile.label
