# PyTorch baselines for scripts/gpu-check.sh, on the same GPU: cuBLAS GEMM 4096^3 bf16, decode-shaped
# F.linear in f16, scaled_dot_product_attention prefill and decode (bf16, GQA 32/8, D 128), and a
# 1 GiB device-to-device copy. Times are CUDA-event means after warm-up. Writes {"device", "torch",
# "ms": {case: milliseconds}} to argv[1].
import json
import sys

import torch
import torch.nn.functional as F

assert torch.cuda.is_available(), "no CUDA device for PyTorch"
dev = torch.device("cuda")


def time_ms(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


ms = {}
src = torch.empty(2**30, dtype=torch.uint8, device=dev)
dst = torch.empty_like(src)
ms["copy_1GiB"] = time_ms(lambda: dst.copy_(src), reps=10)
del src, dst

n = 4096
a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
ms["gemm_bf16_4096"] = time_ms(lambda: a @ b.T, reps=20)
del a, b

for N, K in ((4096, 4096), (14336, 4096)):
    x = torch.randn(1, K, device=dev, dtype=torch.float16)
    w = torch.randn(N, K, device=dev, dtype=torch.float16)
    ms[f"linear_f16_{N}x{K}"] = time_ms(lambda: F.linear(x, w), reps=200)

B, Hq, Hkv, S, D = 1, 32, 8, 2048, 128
q = torch.randn(B, Hq, S, D, device=dev, dtype=torch.bfloat16)
k = torch.randn(B, Hkv, S, D, device=dev, dtype=torch.bfloat16)
v = torch.randn(B, Hkv, S, D, device=dev, dtype=torch.bfloat16)
ms["sdpa_prefill_bf16"] = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), reps=10)
qd = torch.randn(B, Hq, 1, D, device=dev, dtype=torch.bfloat16)
ms["sdpa_decode_bf16"] = time_ms(lambda: F.scaled_dot_product_attention(qd, k, v, enable_gqa=True), reps=200)

json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "ms": ms}, open(sys.argv[1], "w"), indent=2)
print(json.dumps(ms))
