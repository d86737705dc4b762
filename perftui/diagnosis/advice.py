"""What to try and what to run next, per bottleneck (the performance-engineering playbook).

Next steps are concrete commands; `{pid}`, `{gpu}`, `{disk}` and `{nic}` are filled from the
finding (an attached process's PID, the GPU index...), `<command>` stands for the user's program.
"""

from __future__ import annotations

# -- suggestions (at least the playbook's list per class) ------------------------------------------
COMPUTE = (
    "Quantize weights and activations (INT8 / INT4, or FP8 on Hopper)",
    "Fuse operators (torch.compile, fused kernels) to cut launches and memory round trips",
    "Prune or distill the model to do less work per sample",
    "Use tensor cores: bf16/fp16 autocast, matrix dimensions multiples of 8/16",
    "A faster GPU (more SMs, higher clocks) if the kernels are already efficient",
)
LATENCY = (
    "Raise parallelism per kernel: larger batch, fewer but bigger kernels",
    "Fuse operators (torch.compile, fused kernels) to hide memory latency",
    "Check occupancy limits (registers, shared memory per block) in Nsight Compute",
    "Capture the step in CUDA graphs if many small kernels run back to back",
)
MEMORY = (
    "Raise arithmetic intensity: larger batch, fused kernels that keep data on chip",
    "Use FlashAttention (or SDPA's memory-efficient kernels) for attention",
    "Tune the KV cache (paged cache, quantized KV, shorter context) for inference",
    "Lower precision to move fewer bytes (bf16 / FP8 / INT8 weights)",
    "Split the model across GPUs (tensor / pipeline model parallelism)",
)
HOST_MEMORY = (
    "Reduce the resident set: smaller batches, memory-mapped or streamed datasets",
    "Stop other memory-hungry processes, or add RAM",
    "Cap DataLoader workers' memory (fewer workers, no per-worker dataset copies)",
    "Avoid swap for this workload (cgroup memory limits, vm.swappiness)",
)
IO = (
    "Load in parallel: more DataLoader workers (num_workers), persistent_workers=True",
    "Prefetch: prefetch_factor, pin_memory=True, overlap loading with compute",
    "Cache the dataset in RAM or on local NVMe; use a faster NVMe",
    "Read large sequential chunks or packed formats (WebDataset, TFRecord, Arrow), not many small files",
    "Throttle or reschedule the processes that compete for the disk (ionice -c3, a cgroup io.max)",
)
COMMUNICATION = (
    "Accumulate gradients over more micro-batches to sync less often",
    "Overlap communication with compute (DDP bucketing, FSDP prefetch, pipeline parallelism)",
    "Keep traffic on NVLink / NVSwitch; check the topology (nvidia-smi topo -m)",
    "Compress gradients (fp16/bf16 all-reduce, PowerSGD)",
)
PCIE = (
    "Pin host memory (pin_memory=True) and copy with non_blocking=True",
    "Keep data on the GPU between steps; move preprocessing to the GPU",
    "Batch transfers: fewer, larger copies",
    "Check the link runs at its full generation and width (nvidia-smi -q -d PCIE)",
)
CPU = (
    "Move preprocessing to the GPU (DALI, torchvision v2 on GPU tensors)",
    "Use compiled tokenizers (Hugging Face tokenizers 'fast') and vectorized transforms",
    "Add DataLoader workers or processes to use more cores; give the job more cores",
    "Profile the hot Python functions and vectorize them (NumPy / torch ops)",
    "Find the hot code of the busiest processes (perf top, perf record -g) and optimise or parallelise it",
    "Stop, renice or pin the processes that compete for the cores (nice, taskset, a cgroup cpu.max)",
    "Give the work more cores, or run fewer jobs on this machine at once",
)
LAUNCH = (
    "Capture the step in CUDA graphs (torch.cuda.graphs, torch.compile mode='reduce-overhead')",
    "Fuse small kernels (torch.compile) and raise the batch size so each launch does more",
    "Remove host syncs (.item(), .cpu(), printing tensors) from the hot loop",
    "Move preprocessing off the launching thread (DataLoader workers)",
)
GIL = (
    "Move CPU work to processes (DataLoader workers, multiprocessing) instead of threads",
    "Use libraries that release the GIL (NumPy, torch ops, compiled tokenizers)",
    "Reduce the number of Python threads that compete",
)
NETWORK = (
    "Move the client closer to the service (same region / rack)",
    "Batch requests to amortise round trips",
    "Compress payloads",
    "Pool and reuse connections (keep-alive, HTTP/2)",
)
THROTTLED = (
    "Check cooling and airflow (fans, inlet temperature, dust)",
    "Check the power cap (nvidia-smi -q -d POWER) and raise it if the board allows",
    "Check the power supply and PCIe auxiliary power connections (HW slowdown, power brake)",
    "If power-capped by design, trade clocks for efficiency: lower precision does more per joule",
)
IDLE_HOLDING = (
    "Find the process holding the memory; end it if it is finished or hung",
    "A job waiting in a collective (NCCL) on a lost peer also looks like this: check the other ranks",
    "Release cached memory in long-lived processes (torch.cuda.empty_cache()) if others need it",
)
IDLE = ("Nothing to optimise: start the workload, then diagnose again while it runs",)
NONE = (
    "No single resource is saturated: the limit is likely in the program's structure (serial stages, waits)",
    "Take a timeline profile to see where each step spends its time",
)

# -- next steps (one concrete command each) ---------------------------------------------------------
NSYS = "nsys profile -t cuda,nvtx,osrt -s cpu --cuda-graph-trace=node -o perftui_timeline <command>"
NCU = "ncu --set full --target-processes all --launch-skip 50 --launch-count 20 -o perftui_kernels <command>"
TORCH_PROFILER = (
    "with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU, "
    "torch.profiler.ProfilerActivity.CUDA]) as prof: run_a_few_steps()  # then "
    "print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=20))"
)
PYSPY = "py-spy record --pid {pid} --idle --rate 100 --duration 30 -o perftui_profile.svg"
PYSPY_GIL = "py-spy record --pid {pid} --gil --rate 100 --duration 30 -o perftui_gil.svg"
PYSPY_DUMP = "py-spy dump --pid {pid}"
PERF_TOP = "perf top -p {pid}"
PYSPY_TOP = "py-spy top --pid {pid}"
PIDSTAT_IO = "pidstat -d -p {pid} 1"
PIDSTAT_MEM = "pidstat -r -p {pid} 1  # RSS and page faults each second"
PERF = "perf stat -e task-clock,context-switches,cpu-migrations,page-faults -a -- sleep 10"
IOSTAT = "iostat -x 1 10  # then: pidstat -d 1 to see which process reads"
VMSTAT = "vmstat 1 10  # si/so = swap in/out; then: ps aux --sort=-rss | head"
NVSMI_PERF = "nvidia-smi -q -d PERFORMANCE,POWER,TEMPERATURE -i {gpu}"
NVSMI_APPS = "nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv -i {gpu}"
NCCL = "NCCL_DEBUG=INFO nsys profile -t cuda,nvtx,osrt -o perftui_comm <command>"
NET = "sar -n DEV,ETCP 1 10  # then: ss -ti to see per-connection RTT and retransmits"
DIAGNOSE_AGAIN = "perftui diagnose --duration 30  # while the workload runs"
