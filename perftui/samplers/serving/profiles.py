"""What each inference server exports on /metrics, mapped to perftui's names (SERVING.md §1).

A profile lists, for each perftui quantity, the candidate sample names in order of preference (the
newest generation first, then renamed/deprecated ones), the label that names the model, and the
notes a face must show about what the server cannot tell (no TTFT, means only, no histograms).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

LATENCIES = ("ttft", "itl", "e2e", "queue")
COUNTERS = (
    "requests",
    "errors",
    "prompt_tokens",
    "gen_tokens",
    "preemptions",
    "prefix_queries",
    "prefix_hits",
)
GAUGES = ("running", "waiting", "kv_cache", "prefix_hit")


@dataclass(frozen=True)
class Profile:
    """How one server family names its metrics. `scale` multiplies a value into perftui's unit."""

    server: str
    label: str  # shown to people
    detect: tuple[str, ...]  # a sample name starting with one of these says "this server"
    counters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gauges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    histograms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # means only, from cumulative duration counters: latency -> (duration counter, count counter)
    mean_counters: dict[str, tuple[str, str]] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)  # perftui name -> factor (ratio->%, ms->s)
    # a counter read from some of a sample's series only: perftui name -> (label, values it counts);
    # no series with that label at all: no value (an older generation that does not split it)
    selectors: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    # a gauge that is the ratio of two series of one sample: name -> (sample, label, numerator, denominator)
    ratios: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    model_label: str | None = None
    streaming: bool = True  # an LLM token streamer: a preset budget applies to TTFT
    notes: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()  # perftui names whose absence is worth reporting


def _vllm() -> Profile:
    return Profile(
        "vllm",
        "vLLM",
        ("vllm:",),
        counters={
            "requests": ("vllm:request_success_total",),  # every finished request, by finished_reason
            "errors": ("vllm:request_success_total",),
            "prompt_tokens": ("vllm:prompt_tokens_total",),
            "gen_tokens": ("vllm:generation_tokens_total",),
            "preemptions": ("vllm:num_preemptions_total",),
            "prefix_queries": ("vllm:prefix_cache_queries_total",),
            "prefix_hits": ("vllm:prefix_cache_hits_total",),
        },
        gauges={
            "running": ("vllm:num_requests_running",),
            "waiting": ("vllm:num_requests_waiting",),
            "kv_cache": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        },
        histograms={
            "ttft": ("vllm:time_to_first_token_seconds",),
            "itl": ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
            "e2e": ("vllm:e2e_request_latency_seconds",),
            "queue": ("vllm:request_queue_time_seconds",),
        },
        scale={"kv_cache": 100.0},
        # vLLM has no failure counter: aborted (and, from 0.11, errored) requests are the finished ones
        # whose finished_reason says so (v1 loggers.py, FinishReason: stop, length, abort, error)
        selectors={"errors": ("finished_reason", ("abort", "error"))},
        model_label="model_name",
        expected=("requests", "gen_tokens", "running", "waiting", "kv_cache", "ttft", "itl", "e2e", "queue"),
    )


def _sglang(sep: str) -> Profile:
    p = f"sglang{sep}"
    return Profile(
        "sglang",
        "SGLang",
        (p,),
        counters={
            "requests": (f"{p}num_requests_total",),
            "errors": (f"{p}num_aborted_requests_total",),
            "prompt_tokens": (f"{p}prompt_tokens_total",),
            "gen_tokens": (f"{p}generation_tokens_total",),
        },
        gauges={
            "running": (f"{p}num_running_reqs",),
            "waiting": (f"{p}num_queue_reqs",),
            "kv_cache": (f"{p}token_usage",),
            "prefix_hit": (f"{p}cache_hit_rate",),
        },
        histograms={
            "ttft": (f"{p}time_to_first_token_seconds",),
            "itl": (f"{p}inter_token_latency_seconds",),
            "e2e": (f"{p}e2e_request_latency_seconds",),
            "queue": (f"{p}queue_time_seconds",),
        },
        scale={"kv_cache": 100.0, "prefix_hit": 100.0},
        model_label="model_name",
        expected=("requests", "gen_tokens", "running", "waiting", "kv_cache", "ttft", "itl", "e2e"),
    )


def _tgi() -> Profile:
    return Profile(
        "tgi",
        "Hugging Face TGI",
        ("tgi_",),
        counters={
            "requests": ("tgi_request_success_total", "tgi_request_success"),
            "errors": ("tgi_request_failure_total", "tgi_request_failure"),
            "prompt_tokens": ("tgi_request_input_length_sum",),
            "gen_tokens": ("tgi_request_generated_tokens_sum",),
        },
        gauges={"running": ("tgi_batch_current_size",), "waiting": ("tgi_queue_size",)},
        histograms={
            "itl": ("tgi_request_mean_time_per_token_duration",),
            "e2e": ("tgi_request_duration",),
            "queue": ("tgi_request_queue_duration",),
        },
        notes=(
            "TGI exports no TTFT and no KV-cache metric",
            "TGI's per-token time includes prefill (inference time / generated tokens)",
        ),
        expected=("requests", "gen_tokens", "running", "waiting", "e2e", "itl", "queue"),
    )


def _triton() -> Profile:
    return Profile(
        "triton",
        "NVIDIA Triton",
        ("nv_inference_", "nv_trt_llm_"),
        counters={
            "requests": ("nv_inference_request_success_total", "nv_inference_request_success"),
            "errors": ("nv_inference_request_failure_total", "nv_inference_request_failure"),
        },
        gauges={"waiting": ("nv_inference_pending_request_count",)},
        histograms={"ttft": ("nv_inference_first_response_histogram_ms",)},
        mean_counters={
            "e2e": ("nv_inference_request_duration_us", "nv_inference_request_success"),
            "queue": ("nv_inference_queue_duration_us", "nv_inference_request_success"),
        },
        # the TensorRT-LLM backend's KV-cache blocks (tensorrtllm_backend README, "Triton Metrics"):
        # in use = used / max blocks
        ratios={"kv_cache": ("nv_trt_llm_kv_cache_block_metrics", "kv_cache_block_type", "used", "max")},
        scale={"ttft": 1e-3, "e2e": 1e-6, "queue": 1e-6, "kv_cache": 100.0},
        model_label="model",
        streaming=False,
        notes=(
            "Triton's request/queue durations are cumulative µs counters: means only, no percentiles",
            "Triton's first-response histogram times the first response (a chunk), not a token",
        ),
        expected=("requests", "waiting", "e2e"),
    )


def _llamacpp() -> Profile:
    return Profile(
        "llamacpp",
        "llama.cpp server",
        ("llamacpp:",),
        counters={
            "prompt_tokens": ("llamacpp:prompt_tokens_total",),
            "gen_tokens": ("llamacpp:tokens_predicted_total",),
        },
        gauges={
            "running": ("llamacpp:requests_processing",),
            "waiting": ("llamacpp:requests_deferred",),
            "kv_cache": ("llamacpp:kv_cache_usage_ratio",),
        },
        scale={"kv_cache": 100.0},
        notes=(
            "llama.cpp exports no latency histograms (no TTFT/ITL/e2e percentiles): "
            "measure latency on the client side (perftui probe)",
        ),
        expected=("prompt_tokens", "gen_tokens", "running", "waiting"),
    )


PROFILES: tuple[Profile, ...] = (_vllm(), _sglang(":"), _sglang("_"), _tgi(), _triton(), _llamacpp())


def generic_profile(
    mapping: dict[str, str], *, streaming: bool = False, model_label: str | None = None
) -> Profile:
    """A profile from a config table: perftui name (`ttft`, `e2e`, `requests`, `running`, …) -> sample name.

    A training job that exports its own step time as a histogram maps it to `e2e`; its samples
    counter to `requests`.
    """
    counters: dict[str, tuple[str, ...]] = {k: (v,) for k, v in mapping.items() if k in COUNTERS}
    gauges: dict[str, tuple[str, ...]] = {k: (v,) for k, v in mapping.items() if k in GAUGES}
    hists: dict[str, tuple[str, ...]] = {k: (v,) for k, v in mapping.items() if k in LATENCIES}
    unknown = sorted(set(mapping) - set(COUNTERS) - set(GAUGES) - set(LATENCIES))
    if unknown:
        known = ", ".join((*LATENCIES, *COUNTERS, *GAUGES))
        raise ValueError(f"[serving] generic mapping: unknown name(s) {', '.join(unknown)} (known: {known})")
    return Profile(
        "generic",
        "generic",
        (),
        counters=counters,
        gauges=gauges,
        histograms=hists,
        model_label=model_label,
        streaming=streaming,
        expected=tuple(mapping),
    )


def detect(sample_names: Iterable[str]) -> Profile | None:
    """The profile whose prefix the most sample names carry (None: no known server)."""
    names = list(sample_names)
    best: tuple[int, Profile | None] = (0, None)
    for prof in PROFILES:
        n = sum(1 for name in names if name.startswith(prof.detect))
        if n > best[0]:
            best = (n, prof)
    return best[1]


def wanted_prefixes(profile: Profile | None) -> tuple[str, ...]:
    """Sample-name prefixes worth parsing for `profile` (all known servers when it is unknown)."""
    if profile is None:
        return tuple(p for prof in PROFILES for p in prof.detect)
    names = [
        n
        for group in (profile.counters, profile.gauges, profile.histograms)
        for c in group.values()
        for n in c
    ]
    names += [n for pair in profile.mean_counters.values() for n in pair]
    names += [r[0] for r in profile.ratios.values()]
    return tuple(sorted(set(names)))
