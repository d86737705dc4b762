"""THE rules table: every rule, the signals it reads, its thresholds (with sources), its advice.

Sources of the thresholds (../shared/REFERENCE.md):
  [DCGM]   NVIDIA DCGM profiling-metric guidance: SM active >= 0.8 is necessary for good use, < 0.5
           likely ineffective; DRAM active near 0.8 is the practical maximum (memory-bound there);
           high "GPU utilization" with low SM active = few blocks, launch overhead or waiting (sync, NCCL).
  [NSYS]   Nsight Systems expert rules: "GPU time utilisation" < 50 % in a chunk = the GPU is starved;
           pageable-memory async copies; host-blocking synchronisation.
  [TB]     TensorBoard input-pipeline analysis: input time < 5 % not input-bound, 5-20 % moderately,
           >= 20 % highly input-bound. perftui applies the same bands to every "share of time stalled"
           (PSI stall shares, stack-sample shares).
  [NCU]    Nsight Compute speed of light: compute and memory both < 60 % of peak = latency-bound;
           60 % is also the line for "this pipe is a real limiter".
  [HTA]    PyTorch Holistic Trace Analysis: GPU idle split into host wait (CPU not enqueuing fast
           enough) and kernel wait; a host blocked in CUDA sync waits on the GPU.
  [NVML]   Clock-event reasons (power cap, HW slowdown, SW/HW thermal, power brake) read from the driver.
  [IOSTAT] iostat(1) %util: near 100 % means a device serving requests serially is saturated.
  [MATHIS] Mathis et al. 1997: TCP throughput ~ MSS / (RTT * sqrt(loss)): a few % loss already cuts
           throughput several-fold.
  [KMIX]   kubernetes-mixin alert CPUThrottlingHigh: throttled in more than 25 % of CFS periods.
  [PT]     perftui's own choice, with the reason next to it.

Scores: a finding's score is the rule's base + 10 * strength (how far past its threshold); the
highest score is the primary finding. Bases encode which explanation wins when several fire: a cause
seen on the GPU and the host together (launch-bound, starved by I/O) outranks either side alone; a
starved GPU moving gigabytes over PCIe is explained by those copies before a busy host thread is (the
thread is the one staging pageable memory).
Host CPU saturation and storage stalls share a base and rank by their PSI stall shares (the
resource tasks wait on most); host memory pressure ranks above both (swapping causes both). A GPU
working at its limit (compute- or memory-bound by GPM counters) outranks a busy host: the host is
not what holds the GPU back then.
"""

from __future__ import annotations

from perftui.diagnosis import advice as A
from perftui.diagnosis import checks_cgroup as CG
from perftui.diagnosis import checks_gpu as G
from perftui.diagnosis import checks_gpu_host as GH
from perftui.diagnosis import checks_host as H
from perftui.diagnosis import checks_serving as V
from perftui.diagnosis import checks_stack as S
from perftui.diagnosis.ruledef import Rule, Th

GiB = 1024**3

# -- shared thresholds (value, Schmitt band) --------------------------------------------------------
GPU_BUSY = Th(80.0, 5.0)  # [DCGM] the 0.8 line, applied to NVML utilisation: "the GPU looks busy"
SM_GOOD = Th(80.0, 5.0)  # [DCGM] SM active >= 0.8
SM_LOW = Th(50.0, 5.0)  # [DCGM] SM active < 0.5: ineffective use
GPU_STARVED = Th(50.0, 5.0)  # [NSYS] GPU time utilisation < 50 %
GPU_IDLE = Th(5.0, 2.0)  # [PT] P95 utilisation under 5 %: no kernels beyond driver housekeeping
HOLDING = Th(1.0 * GiB)  # [PT] more than a CUDA context's few hundred MiB is allocated
DRAM_MAX = Th(80.0, 5.0)  # [DCGM] DRAM active ~0.8 is the practical maximum
SOL = Th(60.0, 5.0)  # [NCU] speed-of-light 60 % of peak
CORE_SAT = Th(90.0, 5.0)  # [PT] a core busy >= 90 % (median over the window) has no room left
ALL_CORES = Th(90.0, 5.0)  # [PT] the same line for all cores together
STALL = Th(20.0, 3.0)  # [TB] >= 20 %: highly bound
STALL_MOD = Th(5.0, 1.0)  # [TB] 5-20 %: moderately bound
DISK_SAT = Th(90.0, 5.0)  # [IOSTAT] device busy near 100 %
THROTTLE_SHARE = Th(0.5, 0.1)  # [NVML]+[PT] a throttling clock event in at least half the ticks
THROTTLE_BUSY = Th(50.0, 5.0)  # [PT] throttling only matters while the GPU works ([NSYS] 50 % line)
PCIE_BUSY = Th(8e9, 1e9)  # [PT] bytes/s tx+rx: half of PCIe 3.0 x16 (~16 GB/s), a third of 4.0 x16 (~25)
# PCIE_COPIES, bytes/s tx+rx that explain a starved GPU: on an H100 (tests/fixtures/gpu_h100) pageable
# host->device copies ran at 8 GB/s and a launch-bound loop (127k kernels/s) moved 0.23 GB/s.
PCIE_COPIES = Th(3e9, 0.5e9)  # [PT] between the two measured cases, nearer the copies' floor
# LAUNCH_UTIL: the H100 launch-bound loop kept a kernel resident 34 % of the time, SM active 0.03 %.
LAUNCH_UTIL = Th(10.0, 2.0)  # [PT] kernels resident >= 10 % of the time: kernels to speak of
LAUNCH_RATIO = Th(0.5, 0.05)  # [DCGM] "high utilisation, low SM active": SM active under half of utilisation
NVLINK_BUSY = Th(10e9, 1e9)  # [PT] bytes/s tx+rx: sustained NVLink traffic this size is collectives
SWAP = Th(1024.0 * 1024.0)  # [PT] bytes/s swapped in+out (median): sustained, not a one-off page-out
RETRANS = Th(2.0, 0.5)  # [MATHIS] % of TCP segments retransmitted
SEGS_MIN = Th(100.0)  # [PT] segments/s sent: below this the ratio is noise
LINK_SAT = Th(80.0, 5.0)  # [PT] % of NIC link speed, like DRAM's practical max (headers, pauses)
CPU_IDLE = Th(10.0, 2.0)  # [PT] all cores < 10 %: nothing substantial runs
SHARE = STALL  # [TB] stack-sample share >= 20 %
SHARE_MOD = STALL_MOD  # [TB] 5-20 %
SHARE_MAJOR = Th(50.0, 5.0)  # [PT] most samples: "the process spends its time here"
IDLE_SHARE = Th(80.0, 5.0)  # [PT] the attached process sleeps/waits in >= 80 % of samples
CG_THROTTLED = Th(25.0, 5.0)  # [PT]+[KMIX] its alert line (> 25 % of CFS periods throttled), on the median
CG_AT_LIMIT = Th(90.0, 3.0)  # [PT] within 10 % of its limit; counts only with limit hits or stalls (page
#                              cache fills any cgroup to its limit harmlessly)
CG_OOM = Th(1.0)  # [PT] one OOM kill in the window is evidence enough
CG_IO_LIMIT = Th(90.0, 3.0)  # [PT] the kernel holds a cgroup's I/O at its io.max/blkio limit: >= 90 % of
#                              it (median) means the limit, not the device, sets the pace

_GPU = ("gpu.*",)
_CPU = (
    "cpu.util",
    "cpu.core_max.util",
    "cpu.core.*.util",
    "cpu.cores",
    "cpu.steal",
    "proc.cpu",
    "proc.cpu_max_thread",
    "psi.cpu.*",
)
_IO = (
    "psi.io.*",
    "cpu.iowait",
    "disk.*.busy_pct",
    "disk.*.await_s",
    "disk.*.read_bytes_per_s",
    "disk.*.write_bytes_per_s",
)
_STACK = ("stack.*", "proc.*")
_BANDS = {"share": SHARE, "share_mod": SHARE_MOD}
_STARVED = {"starved": GPU_STARVED, "idle": GPU_IDLE, "holding": HOLDING}

# fmt: off
RULES: tuple[Rule, ...] = (
    # id, verdict, base score, signals, thresholds, check, suggestions, next step
    # ---- GPU and host together ---------------------------------------------------------------------
    Rule("gpu.launch_bound", "cpu-bound", 85, (*_GPU, *_CPU),
         {"kernels": LAUNCH_UTIL, "ratio": LAUNCH_RATIO, "sm_low": SM_LOW, "core": CORE_SAT,
          "pcie": PCIE_COPIES},
         GH.launch_bound, A.LAUNCH, A.NSYS),
    Rule("gpu.interconnect", "communication-bound", 82, (*_GPU, *_CPU),
         {"busy": GPU_BUSY, "sm_low": SM_LOW, "nvlink": NVLINK_BUSY, "pcie": PCIE_BUSY, "core": CORE_SAT},
         GH.interconnect, A.COMMUNICATION, A.NCCL),
    Rule("gpu.starved_io", "io-bound", 80, (*_GPU, *_IO),
         {**_STARVED, "stall": STALL, "stall_mod": STALL_MOD, "disk": DISK_SAT},
         GH.starved_io, A.IO, A.PYSPY),
    Rule("gpu.pcie_copies", "communication-bound", 84, (*_GPU, *_CPU),
         {**_STARVED, "pcie": PCIE_COPIES, "core": CORE_SAT},
         GH.pcie_copies, A.PCIE, A.NSYS),
    Rule("gpu.starved_cpu", "cpu-bound", 78, (*_GPU, *_CPU, *_STACK),
         {**_STARVED, "core": CORE_SAT, "all_cores": ALL_CORES, "share_mod": SHARE_MOD},
         GH.starved_cpu, A.CPU, A.TORCH_PROFILER),
    Rule("gpu.throttled", "throttled", 75, _GPU,
         {"share": THROTTLE_SHARE, "busy": THROTTLE_BUSY},
         G.throttled, A.THROTTLED, A.NVSMI_PERF),
    # ---- GPU alone ---------------------------------------------------------------------------------
    Rule("gpu.memory_bound", "memory-bound", 70, _GPU,
         {"dram": DRAM_MAX, "sol": SOL, "sm_low": SM_LOW},
         G.memory_bound, A.MEMORY, A.NCU),
    Rule("gpu.compute_bound", "compute-bound", 68, _GPU,
         {"sm_good": SM_GOOD, "sol": SOL, "dram": DRAM_MAX},
         G.compute_bound, A.COMPUTE, A.NCU),
    Rule("gpu.latency_bound", "compute-bound", 58, _GPU,
         {"sm_good": SM_GOOD, "sol": SOL},
         G.latency_bound, A.LATENCY, A.NCU),
    Rule("gpu.busy_nvml", "compute-bound", 50, (*_GPU, *_CPU),
         {"busy": GPU_BUSY, "dram": DRAM_MAX, "core": CORE_SAT},
         G.busy_nvml, A.COMPUTE, A.NSYS),
    Rule("gpu.idle_holding", "idle", 30, _GPU,
         {"idle": GPU_IDLE, "holding": HOLDING},
         G.idle_holding, A.IDLE_HOLDING, A.NVSMI_APPS),
    # ---- attached process: Python stack shares ([TB] bands) ----------------------------------------
    Rule("stack.collective", "communication-bound", 83, _STACK, _BANDS,
         S.share_rule("collective", "waiting in collectives (all_reduce, barrier...)",
                      "ranks wait for each other: communication or a straggler limits the step"),
         A.COMMUNICATION, A.NCCL),
    Rule("stack.dataloader", "io-bound", 81, _STACK, _BANDS,
         S.share_rule("dataloader", "waiting for the DataLoader",
                      "the training loop waits for the next batch: the input pipeline limits"),
         A.IO, A.PYSPY),
    Rule("stack.disk_read", "io-bound", 79, _STACK, _BANDS,
         S.share_rule("disk_read", "reading files",
                      "the process spends its time reading and decoding from storage"),
         A.IO, A.IOSTAT),
    Rule("stack.tokenization", "cpu-bound", 77, _STACK, _BANDS,
         S.share_rule("tokenization", "tokenizing", "text preprocessing on the CPU limits the step"),
         A.CPU, A.PYSPY),
    Rule("stack.gil", "cpu-bound", 76, _STACK, _BANDS,
         S.share_rule("gil", "waiting for the GIL",
                      "Python threads take turns instead of running in parallel"),
         A.GIL, A.PYSPY_GIL),
    Rule("stack.socket_wait", "network-bound", 70, _STACK, _BANDS,
         S.share_rule("socket_wait", "waiting on sockets",
                      "the process waits for the network or a remote service"),
         A.NETWORK, A.NET),
    Rule("stack.python_compute", "cpu-bound", 66, (*_STACK, *_GPU),
         {"share": SHARE_MAJOR, "core": CORE_SAT, "starved": GPU_STARVED},
         S.python_compute, A.CPU, A.PYSPY),
    Rule("stack.cuda_sync", "compute-bound", 40, _STACK,
         {"share": SHARE},
         S.cuda_sync, A.LAUNCH, A.NSYS),
    Rule("stack.idle", "idle", 14, _STACK,
         {"share": IDLE_SHARE, "cpu_idle": CPU_IDLE},
         S.proc_idle, A.IDLE, A.PYSPY_DUMP),
    # ---- container limits (cgroups): the limit, not the host, holds the work back --------------------
    Rule("cgroup.cpu_quota", "cpu-bound", 72, ("cgroup.*", "cpu.util", "cpu.cores"),
         {"throttled": CG_THROTTLED},
         CG.cpu_quota, CG.CPU_QUOTA, CG.CAT_CPU_STAT),
    Rule("cgroup.memory_limit", "memory-bound", 72, ("cgroup.*", "mem.available_bytes"),
         {"at_limit": CG_AT_LIMIT, "stall": STALL, "stall_mod": STALL_MOD, "oom": CG_OOM},
         CG.memory_limit, CG.MEMORY_LIMIT, CG.CAT_MEMORY),
    Rule("cgroup.io_limit", "io-bound", 72, ("cgroup.*",),
         {"io_limit": CG_IO_LIMIT},
         CG.io_limit, CG.IO_LIMIT, CG.CAT_IO),
    # ---- host alone (also on GPU boxes) ------------------------------------------------------------
    Rule("host.memory_pressure", "memory-bound", 68, ("psi.memory.*", "mem.*"),
         {"stall": STALL, "stall_mod": STALL_MOD, "swap": SWAP},
         H.memory_pressure, A.HOST_MEMORY, A.VMSTAT),
    Rule("host.cpu_saturated", "cpu-bound", 56, _CPU,
         {"all_cores": ALL_CORES},
         H.cpu_saturated, A.CPU, A.PERF),
    Rule("host.io_pressure", "io-bound", 56, _IO,
         {"stall": STALL, "stall_mod": STALL_MOD, "disk": DISK_SAT},
         H.io_pressure, A.IO, A.IOSTAT),
    Rule("host.network", "network-bound", 60, ("net.*",),
         {"link": LINK_SAT, "retrans": RETRANS, "segs": SEGS_MIN},
         H.network, A.NETWORK, A.NET),
    Rule("host.core_saturated", "cpu-bound", 45, (*_CPU, "stack.share.cuda_sync"),
         {"core": CORE_SAT, "all_cores": ALL_CORES, "spin": SHARE_MAJOR},
         H.core_saturated, A.CPU, A.PYSPY),
    Rule("host.idle", "idle", 10, (*_CPU, *_IO, *_GPU),
         {"cpu_idle": CPU_IDLE, "stall_mod": STALL_MOD, "gpu_idle": GPU_IDLE},
         H.host_idle, A.IDLE, A.DIAGNOSE_AGAIN),
    # ---- inference servers' own numbers with the hardware (checks_serving.py has the sources) -----
    Rule("serve.kv_bound", "memory-bound", 79, V.SERVING_SIGNALS,
         {"kv": V.KV_FULL, "preempt": V.PREEMPT}, V.kv_bound, V.KV_CACHE, V.PROBE),
    Rule("serve.queue_headroom", "cpu-bound", 74, V.SERVING_SIGNALS,
         {"queue": V.QUEUE_SHARE, "headroom": V.GPU_HEADROOM}, V.queue_headroom, V.SCHEDULER, V.PROBE),
    Rule("serve.decode_memory_bound", "memory-bound", 72, V.SERVING_SIGNALS,
         {"dram": V.DRAM_NEAR_PEAK, "itl": V.ITL_FINE}, V.decode_memory_bound, V.DECODE, A.NCU),
    Rule("serve.prefill_bound", "compute-bound", 71, V.SERVING_SIGNALS,
         {"itl": V.ITL_FINE}, V.prefill_bound, V.PREFILL, V.PROBE),
    Rule("serve.over_budget", "none", 65, V.SERVING_SIGNALS,
         {"busy": V.UTIL_BUSY, "dram": V.DRAM_NEAR_PEAK}, V.over_budget, V.BUDGET, V.PROBE),
)
# fmt: on

RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
assert len(RULES_BY_ID) == len(RULES), "duplicate rule id"

# Every store key pattern some rule reads: engine.window_from_store fetches only these.
SIGNALS: tuple[str, ...] = tuple(sorted({s for r in RULES for s in r.signals} | {"stack.samples"}))

# -- advice that fits the box and the culprits (fit.py applies these) -------------------------------
# Suggestions that only help Python work (DataLoader, GIL, torch, Python profilers): dropped when the
# culprits are known and none of them runs Python.
PYTHON_ONLY: frozenset[str] = frozenset(
    {
        A.CPU[0],  # DALI, torchvision on GPU tensors
        A.CPU[1],  # Hugging Face tokenizers
        A.CPU[2],  # DataLoader workers
        A.CPU[3],  # hot Python functions
        A.IO[0],  # DataLoader num_workers
        A.IO[1],  # prefetch_factor, pin_memory
        A.HOST_MEMORY[2],  # DataLoader workers' memory
        A.LAUNCH[2],  # .item(), .cpu()
        A.LAUNCH[3],  # DataLoader workers
        *A.GIL,
    }
)
# Suggestions that only help work on a GPU: dropped on a box without GPUs, and when the culprits are
# known and none of them is on a GPU.
GPU_ONLY: frozenset[str] = frozenset({A.CPU[0]})
# Next steps aimed at the top culprit ({pid}): rule id -> (when it runs Python, when it does not).
CULPRIT_STEPS: dict[str, tuple[str, str]] = {
    "host.cpu_saturated": (A.PYSPY_TOP, A.PERF_TOP),
    "host.core_saturated": (A.PYSPY_TOP, A.PERF_TOP),
    "host.io_pressure": (A.PIDSTAT_IO, A.PIDSTAT_IO),
    "host.memory_pressure": (A.PIDSTAT_MEM, A.PIDSTAT_MEM),
}
# Python-only next steps and what replaces them when the work is known not to be Python.
NOT_PYTHON_STEPS: dict[str, str] = {
    A.PYSPY: A.PERF_TOP,
    A.PYSPY_GIL: A.PERF_TOP,
    A.PYSPY_DUMP: A.PERF_TOP,
    A.TORCH_PROFILER: A.NSYS,
}
