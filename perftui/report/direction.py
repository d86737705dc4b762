"""Which way is better, per metric: the one table `perftui compare` judges key metrics by.

A metric listed here is a *key metric*: a change beyond noise is "improved" or "regressed".
Any other metric only reports "changed" or "unchanged" (more network traffic is neither good
nor bad by itself). The first matching pattern wins; `*` matches any run of characters.
"""

from __future__ import annotations

import fnmatch
import re
from functools import cache
from typing import Literal

Better = Literal["higher", "lower"]

DIRECTIONS: tuple[tuple[str, Better, str], ...] = (
    # GPU: doing more of the work it is there for is better.
    ("gpu.*.util", "higher", "share of time the GPU ran kernels"),
    ("gpu.*.sm_active", "higher", "SMs busy: the honest measure of GPU use"),
    ("gpu.*.sm_occupancy", "higher", "more resident warps hide latency"),
    ("gpu.*.tensor_active", "higher", "tensor pipes doing the math they are for"),
    ("gpu.*.tflops", "higher", "achieved TFLOP/s (estimate from the GPM pipes)"),
    ("gpu.*.flops_util_pct", "higher", "share of the GPU's dense BF16 peak achieved"),
    ("efficiency.joules_per_token", "lower", "GPU energy spent per token"),
    ("gpu.*.throttled", "lower", "clocks lowered by power, thermal or hardware events"),
    ("gpu.*.xid_events", "lower", "driver-reported GPU errors"),
    ("gpu.*.ecc_uncorrected", "lower", "uncorrected memory errors"),
    # Serving and probe: throughput up, errors and latency down.
    ("serve.*.gen_tokens_per_s", "higher", "tokens generated per second"),
    ("serve.*.requests_per_s", "higher", "requests finished per second"),
    ("serve.*.errors_per_s", "lower", "failed requests"),
    ("serve.*.preemptions_per_s", "lower", "requests preempted for KV-cache space"),
    ("serve.*.p9*_s", "lower", "tail latency (TTFT, ITL, end to end, queue)"),
    ("probe.tokens_per_s", "higher", "tokens per second the probe received"),
    ("probe.requests_per_s", "higher", "requests per second the probe finished"),
    ("probe.errors_per_s", "lower", "probe requests that failed"),
    ("probe.*.p9*_s", "lower", "tail latency the probe measured"),
    # Host: stalls and waits are worse.
    ("cpu.iowait", "lower", "CPU idle waiting for I/O"),
    ("cpu.steal", "lower", "time taken by the hypervisor"),
    ("psi.*", "lower", "tasks stalled on CPU, I/O or memory"),
    ("mem.swap_in_bytes_per_s", "lower", "swapping in stalls tasks"),
    ("mem.swap_out_bytes_per_s", "lower", "swapping out under memory pressure"),
    ("mem.major_faults_per_s", "lower", "page faults served from disk"),
    ("disk.*.await_s", "lower", "time each I/O waits and runs"),
    ("net.tcp.retrans_per_s", "lower", "segments sent again: loss or congestion"),
    ("net.*.rx_errors_per_s", "lower", "receive errors"),
    ("net.*.tx_errors_per_s", "lower", "transmit errors"),
    ("net.*.rx_drops_per_s", "lower", "received packets dropped"),
    ("net.*.tx_drops_per_s", "lower", "sent packets dropped"),
    # Probe (client side): latency percentiles and failed requests are worse when higher.
    ("probe.*.p*_s", "lower", "latency as the probe's requests felt it"),
    ("probe.errors_per_s", "lower", "probe requests that failed"),
    # Container limits (cgroups): throttling, limit hits and OOM kills are worse.
    ("cgroup.*.throttled_pct", "lower", "share of CPU quota periods throttled"),
    ("cgroup.*.throttled_s_per_s", "lower", "time the container's tasks waited for their quota"),
    ("cgroup.*.oom_kills", "lower", "processes killed at the memory limit"),
    ("cgroup.*.mem_limit_events", "lower", "reclaim forced by the memory limit"),
    ("cgroup.*.psi_*", "lower", "the container's tasks stalled on CPU, I/O or memory"),
    # Attached process.
    ("proc.ctx_involuntary_per_s", "lower", "preemptions of the workload"),
    ("proc.runq_wait", "lower", "time the workload waited for a CPU"),
    ("serve.*.ttft.p99_s", "lower", "P99 time to first token (serving)"),
    ("serve.*.itl.p99_s", "lower", "P99 inter-token latency (serving)"),
    ("serve.*.e2e.p99_s", "lower", "P99 end-to-end request latency (serving)"),
    ("serve.*.gen_tokens_per_s", "higher", "generated tokens per second (serving)"),
    ("serve.*.requests_per_s", "higher", "finished requests per second (serving)"),
    ("stack.share.compute", "higher", "share of samples doing the work itself"),
    ("stack.share.*", "lower", "share of samples waiting (data, sync, collectives, I/O, GIL)"),
)


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))


def direction(key: str) -> tuple[Better, str] | None:
    for pattern, better, why in DIRECTIONS:
        if _rx(pattern).fullmatch(key):
            return better, why
    return None
