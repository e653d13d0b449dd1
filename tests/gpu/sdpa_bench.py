#!/usr/bin/env python3
"""Times PyTorch's scaled_dot_product_attention (causal prefill) as the ceiling for flash_attention.

The same problem `ptxgen bench flash_attention --len S --pos 0` solves: S queries over S keys,
causal, q_heads query heads over kv_heads KV heads (GQA), head_dim, f16 inputs. Each measurement is
a warm-up, then REPEATS timings of ITERS back-to-back calls between two CUDA events on the current
stream; the figure is the median time per call, as `ptxgen bench` reports its own.

Flops count 4 * head_dim per attended query-key pair and query head, S * (S + 1) / 2 pairs per head
(flash_attention's bench_work() counts the same way), so the TFLOP/s figures compare directly.

One line per sequence length, key=value fields, for scripts:
  sdpa seq=4096 q_heads=32 kv_heads=8 head_dim=128 median_us=294.123 min_us=... max_us=... tflop_per_s=...
       gqa=enable_gqa|expanded torch=2.x device="NVIDIA H100 ..."
Exit codes: 0 measured, 1 no CUDA device, 2 PyTorch missing or bad arguments.
"""

import argparse
import statistics
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq", type=int, nargs="+", default=[2048, 4096], help="sequence lengths S (default 2048 4096)")
    p.add_argument("--q-heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--warmup", type=int, default=20, help="calls before the timings (default 20)")
    p.add_argument("--iters", type=int, default=20, help="back-to-back calls per timing (default 20)")
    p.add_argument("--repeats", type=int, default=25, help="timings; the median is reported (default 25)")
    a = p.parse_args()
    if a.q_heads % a.kv_heads != 0:
        p.error(f"--q-heads {a.q_heads} is not a multiple of --kv-heads {a.kv_heads}")
    if min(a.seq) < 1 or a.iters < 1 or a.repeats < 1 or a.warmup < 0:
        p.error("--seq, --iters and --repeats must be positive, --warmup not negative")
    return a


def import_torch():
    try:
        import torch  # noqa: PLC0415 (imported here so that its absence is a clear message)
    except ImportError as e:
        print(f"sdpa_bench.py: error: PyTorch is not installed for {sys.executable} ({e}); "
              "it is needed to time scaled_dot_product_attention (install torch with CUDA, "
              "or run this on the GPU machine)", file=sys.stderr)
        sys.exit(2)
    if not torch.cuda.is_available():
        print(f"sdpa_bench.py: error: torch {torch.__version__} sees no CUDA device", file=sys.stderr)
        sys.exit(1)
    return torch


def make_call(torch, q, k, v, group):
    """A zero-argument callable running causal SDPA with GQA, and how GQA is done."""
    sdpa = torch.nn.functional.scaled_dot_product_attention
    if group > 1:
        try:
            sdpa(q[:, :, :1], k[:, :, :1], v[:, :, :1], is_causal=True, enable_gqa=True)
            return (lambda: sdpa(q, k, v, is_causal=True, enable_gqa=True)), "enable_gqa"
        except TypeError:
            pass  # torch before 2.5: no enable_gqa; expand the KV heads once, outside the timing
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        return (lambda: sdpa(q, k, v, is_causal=True)), "expanded"
    return (lambda: sdpa(q, k, v, is_causal=True)), "none"


def time_call(torch, call, warmup, iters, repeats):
    """Per-call times in microseconds, one per timing of `iters` back-to-back calls."""
    for _ in range(warmup):
        call()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            call()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0 / iters)
    return times


def main():
    a = parse_args()
    torch = import_torch()
    group = a.q_heads // a.kv_heads
    device = torch.cuda.get_device_name()
    gen = torch.Generator(device="cuda").manual_seed(1)
    with torch.no_grad():
        for s in a.seq:
            shape_q = (1, a.q_heads, s, a.head_dim)
            shape_kv = (1, a.kv_heads, s, a.head_dim)
            q = torch.randn(shape_q, device="cuda", dtype=torch.float16, generator=gen)
            k = torch.randn(shape_kv, device="cuda", dtype=torch.float16, generator=gen)
            v = torch.randn(shape_kv, device="cuda", dtype=torch.float16, generator=gen)
            call, gqa = make_call(torch, q, k, v, group)
            times = time_call(torch, call, a.warmup, a.iters, a.repeats)
            median = statistics.median(times)
            flops = 4 * a.head_dim * a.q_heads * s * (s + 1) // 2
            print(f"sdpa seq={s} q_heads={a.q_heads} kv_heads={a.kv_heads} head_dim={a.head_dim} "
                  f"median_us={median:.3f} min_us={min(times):.3f} max_us={max(times):.3f} "
                  f"tflop_per_s={flops / (median * 1e6):.1f} gqa={gqa} torch={torch.__version__} "
                  f"device=\"{device}\"", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
